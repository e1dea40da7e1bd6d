package verifier

import (
	"fmt"

	"github.com/civitas-net/civitas/credential"
	"github.com/civitas-net/civitas/schemas"
)

// schemaType is the credentialSchema type of a W3C VC JSON Schema reference.
const schemaType = "JsonSchema"

// checkSchema validates a credential against the embedded JSON Schema of its Civitas
// type, and refuses schema references this verifier does not hold. Schemas are never
// fetched.
func checkSchema(cs *checks, c *credential.Credential) {
	typ, civitas := schemas.ByTypes(c.Types)
	for _, ref := range c.Schemas {
		st, known := schemas.BySchemaID(ref.ID)
		if !known || ref.Type != schemaType {
			cs.fail(CheckSchema, SchemaUnavailable, fmt.Sprintf("schema %q (%s) is not one this verifier holds", ref.ID, ref.Type))
			return
		}
		if civitas && st.Name != typ.Name {
			cs.fail(CheckSchema, SchemaInvalid, fmt.Sprintf("a %s names the schema of %s", typ.Name, st.Name))
			return
		}
		typ, civitas = st, true
	}
	if !civitas {
		cs.pass(CheckSchema, "no schema applies")
		return
	}
	if err := schemas.ValidateCredential(typ.Name, c.Document); err != nil {
		cs.fail(CheckSchema, SchemaInvalid, err.Error())
		return
	}
	cs.pass(CheckSchema, typ.SchemaID)
}
