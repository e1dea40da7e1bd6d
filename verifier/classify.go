package verifier

import (
	"errors"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/credential/dataintegrity"
	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/credential/sdjwt"
	"github.com/civitas-net/civitas/did"
	"github.com/civitas-net/civitas/internal/jsonld"
	"github.com/civitas-net/civitas/internal/jsonstrict"
	"github.com/civitas-net/civitas/keys"
)

// classify maps an error from the parsing, resolution and proof layers to a code.
// unresolvable is the code for a DID that cannot be resolved: IssuerUnresolvable or
// HolderUnresolvable, depending on whose DID it was.
func classify(err error, unresolvable Code) Code {
	switch {
	case errors.Is(err, sdjwt.ErrNonce):
		return ChallengeMismatch
	case errors.Is(err, sdjwt.ErrAudience):
		return AudienceMismatch
	case errors.Is(err, sdjwt.ErrExpired):
		return Expired
	case errors.Is(err, sdjwt.ErrNotYetValid):
		return NotYetValid
	case errors.Is(err, sdjwt.ErrAlgorithm):
		return AlgorithmNotAllowed
	case errors.Is(err, sdjwt.ErrSignature), errors.Is(err, sdjwt.ErrDisclosure):
		return SignatureInvalid
	case errors.Is(err, sdjwt.ErrKeyID):
		return KeyMismatch
	case errors.Is(err, jsonstrict.ErrTooLarge), errors.Is(err, jsonstrict.ErrTooDeep), errors.Is(err, jsonld.ErrLimit):
		return LimitExceeded
	case errors.Is(err, jsonld.ErrUnknownContext), errors.Is(err, jsonld.ErrInlineContext), errors.Is(err, credential.ErrContext):
		return UnknownContext
	case errors.Is(err, jose.ErrAlgorithm), errors.Is(err, dataintegrity.ErrUnsupported), errors.Is(err, keys.ErrUnsupportedKey):
		return AlgorithmNotAllowed
	case errors.Is(err, jose.ErrSignature), errors.Is(err, dataintegrity.ErrSignature):
		return SignatureInvalid
	case errors.Is(err, jose.ErrKeyID), errors.Is(err, dataintegrity.ErrMismatch), errors.Is(err, did.ErrRelationship), errors.Is(err, did.ErrNoVerificationMethod):
		return KeyMismatch
	case errors.Is(err, jose.ErrMalformed), errors.Is(err, dataintegrity.ErrMalformed), errors.Is(err, credential.ErrMalformed),
		errors.Is(err, jsonstrict.ErrSyntax), errors.Is(err, jsonstrict.ErrDuplicateKey), errors.Is(err, jsonld.ErrInvalid),
		errors.Is(err, sdjwt.ErrMalformed):
		return Malformed
	case errors.Is(err, did.ErrInvalidDID), errors.Is(err, did.ErrMethodNotSupported), errors.Is(err, did.ErrNotFound),
		errors.Is(err, did.ErrResolution), errors.Is(err, did.ErrUnsafeAddress), errors.Is(err, did.ErrTooLarge),
		errors.Is(err, did.ErrInvalidDocument):
		return unresolvable
	}
	return Internal
}
