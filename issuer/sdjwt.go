package issuer

import (
	"slices"

	"github.com/civitas-net/civitas/credential/sdjwt"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/schemas"
)

// signSDJWT secures an issuance as an SD-JWT VC bound to the holder's key: the type's
// always-disclosed subject claims in clear, every other subject claim (and sub, the
// holder's DID, and any evidence) selectively disclosable, the status entries in clear.
// An SD-JWT VC has no id member; the record gets a new urn:uuid, which the admin API
// and status changes use.
func (s *Service) signSDJWT(iss *Issuer, sp issueSpec, status []map[string]any, holderJWK map[string]any) (store.CredentialRecord, error) {
	if holderJWK == nil {
		return store.CredentialRecord{}, errorf(CodeUnsupportedFormat, "an SD-JWT VC is issued only to a wallet proving its key (OpenID4VCI)")
	}
	t, ok := schemas.Lookup(sp.Type)
	if !ok {
		return store.CredentialRecord{}, errorf(CodeUnknownType, "unknown type %s", sp.Type)
	}
	visible, disclosable := map[string]any{}, map[string]any{}
	for k, v := range sp.Subject {
		switch {
		case k == "id":
			disclosable["sub"] = v
		case slices.Contains(t.AlwaysDisclosed, k):
			visible[k] = v
		default:
			disclosable[k] = v
		}
	}
	if len(sp.Evidence) > 0 {
		disclosable["evidence"] = sp.Evidence
	}
	now := s.now()
	compact, err := sdjwt.Issue(sdjwt.Claims{
		Issuer: s.did, VCT: t.VCT, IssuedAt: now, Expires: sp.ValidUntil, HolderJWK: holderJWK,
		Status: status, Visible: visible, Disclosable: disclosable,
	}, iss.key.Signer, iss.key.KeyID)
	if err != nil {
		return store.CredentialRecord{}, internal("sign sd-jwt", err)
	}
	return store.CredentialRecord{ID: NewURN(), IssuedAt: now, ValidUntil: sp.ValidUntil, Body: []byte(compact)}, nil
}
