// Package statuslist implements W3C Bitstring Status List v1.0: the bitstring an issuer
// publishes to revoke or suspend credentials, and the status entries credentials carry.
//
// A List is a fixed-size bitstring with the spec's bit order (index 0 is the most
// significant, left-most bit of byte 0). Encode produces the encodedList value: the
// multibase base64url prefix 'u' followed by base64url without padding of the GZIP of the
// bits. Decode reverses it for lists received from elsewhere and treats them as hostile:
// the encoded length and the decompressed size are capped (a gzip bomb stops at the cap,
// it is never inflated in full), the checksum and the end of the GZIP member are checked,
// trailing bytes are refused, and lists shorter than the spec's 16 KiB minimum
// (MinSize = 131072 bits) are refused unless DecodeLimits say otherwise.
//
// Entry is a BitstringStatusListEntry (credentialStatus) as the issuer writes it and the
// verifier reads it; ListFromCredential reads the list out of a
// BitstringStatusListCredential's subject.
//
// What it does not do: it does not verify the status list credential's proof, its issuer
// or its validity period, and it does not fetch it (the verifier does all three before it
// calls ListFromCredential). It does not allocate indexes (the issuer's store does, so an
// index is never handed out twice). It supports only the "revocation" and "suspension"
// purposes with a statusSize of 1; the "message" purpose, statusSize greater than 1 and
// statusMessage are not implemented, and entries using them are refused as malformed.
// A List is not safe for concurrent use.
package statuslist
