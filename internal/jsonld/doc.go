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
//     document body and reaches the RDF (so not "@index", "@none" or "@set"); no
//     free-floating values (scalars, value or list objects) in "@graph"; bounded depth and
//     number of JSON values; strings are valid UTF-8; numbers are finite.
//  2. Expansion (JSON-LD 1.1 Processing Algorithms §5), in json-ld-1.1 mode with safe mode
//     on (a term that does not expand to an IRI is an error, not silently dropped).
//     Contexts come only from the Registry: embedded copies of the standard contexts plus
//     what the program Adds; nothing is ever fetched. There are two implementations, which
//     give the same expanded document (below): the fast path, written here, and the
//     general path, github.com/piprate/json-gold with the parsed top-level context of each
//     distinct context list cached.
//  3. Deserialization to RDF (JSON-LD 1.1 §8 "Deserialize JSON-LD to RDF"), written here, in
//     "safe mode": relative IRIs (subjects, predicates, objects, types, graph names),
//     blank-node predicates, malformed language tags and values with a base direction are
//     errors (ErrInvalid) instead of being dropped.
//  4. RDFC-1.0 with SHA-256 (sub-package rdfc), under a work budget.
//
// Limits bound every step (Limits); the defaults suit a credential or a presentation.
// Expansion cannot be interrupted through the context, so its cost is bounded by the size
// limits alone: on the general path the most expensive documents within the defaults
// (some 2000 typed anonymous objects, about 60 KB) take on the order of 100 ms on one
// core; callers should also bound request bodies.
//
// # The fast expansion path
//
// Why: verifying an eddsa-rdfc-2022 credential cost about 7 raw Ed25519 verifications,
// two thirds of it in json-gold's expansion, and most of that in (*ld.Context).parse
// processing again, for every document, the type-scoped and property-scoped contexts of
// the credentials v2 context (VerifiableCredential's, DataIntegrityProof's, proofPurpose's)
// and copying whole term maps (CopyContext) at each of them. Caching json-gold's own
// processing of scoped contexts is not possible without forking it: the scoped contexts
// are processed inside its Expand, and its Context is mutable. So the fast path
// (fastctx.go, fastexpand.go) does two things:
//
//   - Contexts are compiled once per registry generation (Add starts a new one) into
//     immutable active contexts ("states": a term table, the vocabulary mapping, whether a
//     term is protected, the context to revert to after a type-scoped context). Each
//     context processing step (a document's "@context" URL, a type-scoped, a
//     property-scoped context) is a transition from one state to another, computed once
//     and cached on the state it starts from; a document then costs map lookups. At most
//     1024 transitions are kept per generation; past that the cache starts empty again.
//   - Expansion is json-gold v0.7.0's algorithm (its Expand and expandObject, and for
//     context processing its parse and createTermDefinition) rewritten step by step over
//     those states, restricted to the features below. It builds the same expanded
//     document json-gold builds, map for map, with one exception: the container mapping
//     of a term that has a scoped context. JSON-LD 1.1 (Expansion Algorithm step 13.5)
//     and jsonld.js take it from the active context the term is found in; json-gold
//     takes it from the term's own scoped context. In the credentials v2 context
//     "verifiableCredential" has "@container": "@graph" and "@context": null, so
//     json-gold puts the credentials of a presentation in the default graph, where the
//     specification (and jsonld.js 9, behind Digital Bazaar's verifiers; releases
//     before digitalbazaar/jsonld.js#544 behaved like json-gold) puts each in a named
//     graph of its own, a blank node the presentation points at. The fast path
//     follows the specification. Otherwise it keeps json-gold's order of work (a
//     property-scoped context applied before the value is expanded, not inside the
//     recursive call), which jsonld.js shares. The steps after expansion are shared.
//     (The IRIs of term definitions are also noted as valid, so that step 3 need not
//     parse them again for every statement; that only saves work.)
//
// The general path refuses, with ErrUnsupported (which wraps ErrInvalid), every document
// on which that departure of json-gold could change the result: one that names a
// registered context holding a term whose scoped context changes or removes the term's
// container mapping, and uses that term as a member name (divergence.go). Among the
// registered contexts, only credentials v2's "verifiableCredential" is such a term; a
// credentials v2 presentation holding credentials is therefore canonicalized by the fast
// path only. On such a term the fast path handles the credentials v2 pattern (a graph
// container removed by the scoped context) and leaves the other patterns to the general
// path, which refuses them.
//
// The tests hold the two paths to this: a differential test over the published vectors,
// the corpus in testdata and Civitas credentials of every type (unsigned, signed,
// proof configurations, a presentation holding them, status lists) compares the expanded
// documents (deep equality) and the canonical N-Quads (bytes); every reject case runs on
// both paths; FuzzFastPath mutates such documents and requires equal results or the same
// error class. Presentations holding credentials, which the general path refuses, are
// compared instead with golden N-Quads written by hand from the specification and with
// an oracle that composes the presentation's dataset from parts json-gold gets right
// (presentation_test.go).
//
// What the fast path supports, in a context (registered document or scoped context):
// "@version": 1.1; "@protected"; "@vocab" given as an absolute IRI ("scheme://…") or
// null; a context URL naming a registered document (security v2 names security v1), at
// most 8 deep; null; term definitions that are null, a string, or an object made only of
// "@id", "@type" ("@id", "@vocab", "@json", "@none" or an IRI), "@container" (one of
// "@set", "@list", "@graph", as a string), "@context" and "@protected"; compact IRIs and
// keyword aliases ("id": "@id"). In a document: every keyword Check allows except
// "@reverse" and "@nest". That covers every context embedded from
// github.com/trustbloc/did-go, the Civitas context and the examples context.
//
// Fallback: the fast path gives up, and the general path expands the document from the
// original input (nothing the fast path built is used), when
//
//   - a context it has to process (top-level, nested in the document, type-scoped or
//     property-scoped) uses anything else: "@language", "@direction", "@base",
//     "@import", "@propagate", a nested "@context", "@type" or any keyword defined as a
//     term, an "@"-name reserved for future use, "@reverse", "@index", "@nest",
//     "@prefix", "@language" or "@direction" in a term definition, a container array or
//     any other container, a "@vocab" that is not written as an absolute IRI, a URL that
//     is not registered, a chain of context URLs deeper than 8;
//   - processing a context would make json-gold report an error (a protected term
//     redefined, a null context over protected terms, the same URL twice in one context
//     array, a cyclic or invalid IRI mapping, a relative term without vocabulary mapping,
//     …) or panic (a compact IRI whose prefix is a term mapped to null);
//   - the document uses "@reverse" or "@nest" (or a keyword json-gold drops or keeps for
//     framing, which only an alias in a context could bring past Check);
//   - an error arises inside a "@list" object (json-gold ignores it and goes on with a
//     null item, leaving the outcome to the later steps);
//   - an object has a member named "" and no member expanding to "@type" (json-gold would
//     read the "" member as its type), or the fast path panics (a bug; never expected).
//
// Every other error the fast path meets is one json-gold reports at the same point, and
// it fails the document there with ErrInvalid as the general path does.
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
//     quad is related to the node once; json-gold relates it twice and labels differently;
//   - a graph container value that states nothing (an empty node, or only "@id") is
//     refused with ErrInvalid: the specification keeps an empty named graph, json-gold
//     too, jsonld.js drops the value (an error in its safe mode);
//   - the credentials of a credentials v2 presentation are in named graphs (above).
//
// What it does not do: fetch or accept any context not in the Registry, use @base (there
// is no document URL; relative IRIs are errors), support "@direction" (rejected: json-gold
// and JSON-LD's default drop it silently, which would leave it unsigned; jsonld.js's safe
// mode rejects it too), support contexts with "@import" or aliases of "@set", correct
// json-gold's other departures from the JSON-LD specification (the fast path reproduces
// them; jsonld.js shares those known: a property-scoped context applied before, not in,
// the recursive expansion), compact, frame, or produce the canonical blank-node label map. Check runs
// before the contexts are known, so it also refuses "@"-keys and "@context" members
// inside @json literal values, which JSON-LD itself would accept.
package jsonld
