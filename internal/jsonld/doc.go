// Package jsonld turns a JSON-LD document into its RDF Dataset Canonicalization (RDFC-1.0,
// https://www.w3.org/TR/rdf-canon/) canonical N-Quads, the bytes the Data Integrity
// cryptosuites eddsa-rdfc-2022 and ecdsa-rdfc-2019 hash. It sits on the verification hot
// path and is a security boundary: what it accepts is what gets signed.
//
// The pipeline of Registry.Canonicalize:
//
//  1. Check, before any JSON-LD processing: every "@context" anywhere in the document is a
//     URL string (or array of them) present in the Registry, never an inline object;
//     no key starts with "@" unless it is a JSON-LD 1.1 keyword that may appear in a
//     document body and reaches the RDF (so not "@index" or "@none"); no free-floating
//     values in "@graph"; bounded depth and number of JSON values; strings are valid
//     UTF-8; numbers are finite.
//  2. Expansion (JSON-LD 1.1 Processing Algorithms §5) with github.com/piprate/json-gold,
//     in json-ld-1.1 mode with its safe mode on (a term that does not expand to an IRI is
//     an error, not silently dropped). Contexts come only from the Registry: embedded
//     copies of the standard contexts plus what the program Adds; nothing is ever fetched.
//     The parsed top-level context of each distinct context list is cached.
//  3. Deserialization to RDF (JSON-LD 1.1 §8 "Deserialize JSON-LD to RDF"), written here, in
//     "safe mode": relative IRIs (subjects, predicates, objects, types, graph names),
//     blank-node predicates, malformed language tags and values with a base direction are
//     errors (ErrInvalid) instead of being dropped.
//  4. RDFC-1.0 with SHA-256 (sub-package rdfc), under a work budget.
//
// Limits bound every step (Limits); the defaults suit a credential or a presentation.
// Expansion cannot be interrupted through the context, so its cost is bounded by the size
// limits alone: the most expensive documents within the defaults (some 2000 typed
// anonymous objects, about 60 KB) take on the order of 100 ms on one core; callers should
// also bound request bodies.
//
// Deliberate differences from json-gold's own ToRDF/Normalize (see the package tests):
//   - safe mode: the inputs listed in step 3 fail with ErrInvalid, where json-gold drops
//     the statements (json-gold also drops http(s) IRIs its URL regexp rejects; they are
//     kept here when they are well-formed IRIs, as jsonld.js does);
//   - numbers: an integral number with absolute value below 1e21 is an xsd:integer, as
//     JSON-LD 1.1 says; json-gold makes numbers at or above 2^63 xsd:double;
//   - @json literals: any JSON value is accepted and written in JCS (RFC 8785) form;
//     json-gold mishandles strings, arrays, numbers, booleans and null there;
//   - literal escaping follows canonical N-Quads (see rdfc); json-gold leaves most control
//     characters unescaped;
//   - a blank node occurring twice in one quad (a node in its own named graph, a blank
//     node pointing at itself) hashes as in digitalbazaar's rdf-canonize RDFC-1.0: the
//     quad is related to the node once; json-gold relates it twice and labels differently.
//
// What it does not do: fetch or accept any context not in the Registry, use @base (there
// is no document URL; relative IRIs are errors), support "@direction" (rejected: json-gold
// and JSON-LD's default drop it silently, which would leave it unsigned; jsonld.js's safe
// mode rejects it too), support contexts with "@import", cache nested (non top-level)
// contexts, compact, frame, or produce the canonical blank-node label map. Check runs
// before the contexts are known, so it also refuses "@"-keys and "@context" members
// inside @json literal values, which JSON-LD itself would accept.
package jsonld
