// Package wallet is the holder's side of Civitas, a light wallet an app can embed:
//
//   - a member's identity (Holder): a key and its DID, did:key or did:jwk;
//   - an encrypted store (Store) of the member's credentials in one folder: a random
//     master key sealed under the passphrase with Argon2id and XChaCha20-Poly1305, every
//     other file sealed with keys derived from it, names that reveal nothing, atomic
//     writes, a lock against concurrent writers, and encrypted backups (Export, Import);
//   - receiving credentials through OpenID for Verifiable Credential Issuance 1.0, the
//     pre-authorized code flow (Holder.Receive), bound to the holder's key;
//   - presenting them bound to a verifier's challenge and audience: as application/vp+jwt
//     (VC-JOSE-COSE), as a VC Data Model 2.0 VerifiablePresentation with a Data Integrity
//     proof (proofPurpose authentication, challenge and domain), or, for SD-JWT VCs, with
//     the claims the member chooses to disclose and a Key Binding JWT.
//
// What it does not do: the authorization code flow or offers by reference
// (credential_offer_uri), deferred issuance, credential refresh, passphrase changes,
// rollback protection of the index (an attacker who can write the folder can put back
// an older copy), and verifying a received credential's issuer signature (the
// verifier does that when the credential is presented; the wallet checks the
// credential is bound to it).
package wallet
