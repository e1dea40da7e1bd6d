// Package schemas holds the Civitas credential types: their JSON Schemas (JSON Schema
// 2020-12, used as W3C VC JSON Schema credentialSchema of type "JsonSchema"), the Civitas
// JSON-LD 1.1 context, and one example subject per type. Everything is embedded in the
// binary (with the go:embed directive); nothing is ever fetched.
//
// The three types are MembershipCredential (subject type "Member"), ResidencyCredential
// ("Resident") and ContributionCredential, a contribution badge in the Open Badges 3.0
// shape (an AchievementCredential whose subject is an AchievementSubject holding an
// Achievement). Each schema validates the whole credential, as the VC JSON Schema
// specification asks: its type array, its @context (the VC 2.0 context first, and
// ContextURL) and its credentialSubject, with no unknown subject properties. Rules JSON
// Schema cannot state (residencePeriod.until not before from; exactly one Civitas type
// named) are checked in Go by ValidateCredential. Schemas are compiled once, on first use,
// with format assertions on, and the compiler can load nothing but these embedded
// schemas and the 2020-12 meta-schema built into the library.
//
// The context (ContextURL) is meant to be listed after https://www.w3.org/ns/credentials/v2.
// That context is @protected and already defines id, type, name, description and the VC
// terms, so this one does not redefine them (a JSON-LD processor would reject it). Every
// term the Civitas types use is defined, so none falls back to the VC 2.0 @vocab
// (https://www.w3.org/ns/credentials/issuer-dependent#). Civitas's own terms live under
// VocabURL.
//
// Open Badges 3.0: the official context (https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json)
// is not embedded and credentials do not list it. Instead the Civitas context defines the
// few OB terms contribution badges use (AchievementCredential, AchievementSubject,
// Achievement, Criteria, Evidence, achievement, achievementType, criteria, narrative) and
// maps each to exactly the IRI the official context gives it (for example
// AchievementCredential to https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential
// and criteria to ...#Criteria), so the RDF graph is the one an Open Badges processor
// expects. Because both contexts are @protected and define these terms differently (the
// official one with scoped contexts), a credential must not list both.
//
// What it does not do: it does not check the values against the world (that a DID
// resolves, that a country code is assigned: country is two capital letters, achievementType
// an Open Badges-style name or "ext:" extension), it does not verify proofs, and it does not
// validate the credential's VC 2.0 envelope (issuer, validity dates, status), which the
// credential package does. Achievement images and the other optional Open Badges fields are
// not part of the Civitas types.
package schemas
