// Package rdfc implements RDF Dataset Canonicalization, RDFC-1.0
// (https://www.w3.org/TR/rdf-canon/), with SHA-256 as the hash algorithm, and the canonical
// N-Quads serialization it produces.
//
// Canonicalize takes a set of quads (duplicates are removed: a dataset is a set), gives
// every blank node a canonical label c14n0, c14n1, … and returns the canonical N-Quads
// document: one quad per line, each line ended by "\n", lines sorted by code point and
// unique. This is the output the Data Integrity cryptosuites eddsa-rdfc-2022 and
// ecdsa-rdfc-2019 hash; for the datasets it accepts it is byte-identical to the URDNA2015
// output of other implementations (RDFC-1.0 is URDNA2015 with its serialization rules made
// precise).
//
// Because canonicalization can be made to do exponential work (a "poison" dataset of many
// indistinguishable blank nodes makes Hash N-Degree Quads try every permutation), it runs
// under a budget (Options): a cap on quads, on blank nodes and on units of work (one unit
// per Hash N-Degree Quads call and per permutation tried). Going over any of them fails
// with ErrLimit instead of running on; the context is checked as the work proceeds.
//
// ParseNQuads reads N-Quads 1.1 (https://www.w3.org/TR/n-quads/) into quads, for tests,
// fuzzing and tools; the JSON-LD path in the parent package builds quads directly.
//
// What it does not do: it does not implement the older URGNA2012 algorithm, hash algorithms
// other than SHA-256, generalized RDF (blank-node predicates, literal subjects), RDF 1.2
// triple terms or directional language strings; it does not return the blank node label
// map (selective-disclosure suites will need it); it does not check that literals are
// well formed for their datatype (a "abc"^^xsd:integer literal is kept as it is).
package rdfc
