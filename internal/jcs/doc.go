// Package jcs implements the JSON Canonicalization Scheme (JCS, RFC 8785).
//
// Transform turns JSON bytes into their canonical form: object members sorted by the
// UTF-16 code units of their names, no insignificant whitespace, strings escaped as
// ECMAScript's JSON.stringify does (RFC 8785 §3.2.2.2) and numbers written as
// ECMAScript's Number.prototype.toString writes them (RFC 8785 §3.2.2.3). Marshal does the
// same for a Go value of the shapes encoding/json decodes into. The eddsa-jcs-2022
// cryptosuite hashes this output.
//
// Input is held to the I-JSON profile (RFC 7493) that RFC 8785 requires: Transform
// decodes with internal/jsonstrict.Decode (one value, valid UTF-8, no lone surrogates, no
// duplicate names, bounded size and depth), and then rejects numbers that are not finite
// IEEE-754 doubles. Note that jsonstrict also refuses two member names that differ only in letter
// case, which RFC 8785 itself would allow; Civitas refuses them everywhere at the trust
// boundary.
//
// What it does not do: it does not keep number precision beyond a double (large integers
// are rounded, as in every JCS implementation), it does not normalize Unicode (strings
// are kept as they are, NFC or not), and it does not stream: the whole value is held in
// memory while it is sorted.
package jcs
