package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Issue is one reason a credential does not match its schema.
type Issue struct {
	// Path is a JSON Pointer (RFC 6901) to the offending value: from the credential's
	// root for ValidateCredential, from the subject's root for ValidateSubject. The
	// root itself is "".
	Path string
	// Message says what is wrong, in a few words (outside values are shortened).
	Message string
}

func (i Issue) String() string {
	p := strings.TrimPrefix(i.Path, "/")
	if p == "" {
		p = "(root)"
	}
	return p + ": " + i.Message
}

// ValidationError lists why a credential or subject does not match its type's schema.
// It wraps ErrSchema.
type ValidationError struct {
	// Type is the Civitas type the value was validated against.
	Type string
	// Issues are sorted by Path; there is at least one.
	Issues []Issue
}

// maxShown bounds how many issues Error prints.
const maxShown = 4

// Error returns a short message naming the failing JSON pointers and reasons, e.g.
// `credentialSubject/memberSince: "2025-13-01" is not a valid date`.
func (e *ValidationError) Error() string {
	var sb strings.Builder
	sb.WriteString("invalid ")
	sb.WriteString(e.Type)
	sb.WriteString(": ")
	for i, is := range e.Issues {
		if i == maxShown {
			fmt.Fprintf(&sb, "; and %d more", len(e.Issues)-maxShown)
			break
		}
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(is.String())
	}
	return sb.String()
}

// Unwrap returns ErrSchema.
func (e *ValidationError) Unwrap() error { return ErrSchema }

// compiled holds the schemas, compiled once.
type compiled struct {
	schemas map[string]*jsonschema.Schema // by type name
	raw     map[string]any                // decoded schema documents, by $id
	err     error
}

var (
	compileOnce sync.Once
	compiledSet compiled
)

// noFetch is the compiler's loader: every schema it may use has been added as a
// resource beforehand, so any other URL (a $ref to the network, a file) is refused.
type noFetch struct{}

func (noFetch) Load(u string) (any, error) {
	return nil, fmt.Errorf("schema %q is not embedded; schemas are never fetched", u)
}

func compileAll() {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noFetch{})
	c.UseRegexpEngine(regexpEngine)
	compiledSet.schemas = make(map[string]*jsonschema.Schema, len(registry))
	compiledSet.raw = make(map[string]any, len(registry))
	for _, t := range registry {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema(t.Name)))
		if err != nil {
			compiledSet.err = fmt.Errorf("schemas: embedded schema %s: %w", t.Name, err)
			return
		}
		if err := c.AddResource(t.SchemaID, doc); err != nil {
			compiledSet.err = fmt.Errorf("schemas: embedded schema %s: %w", t.Name, err)
			return
		}
		compiledSet.raw[t.SchemaID] = doc
	}
	for _, t := range registry {
		s, err := c.Compile(t.SchemaID)
		if err != nil {
			compiledSet.err = fmt.Errorf("schemas: compile %s: %w", t.Name, err)
			return
		}
		compiledSet.schemas[t.Name] = s
	}
}

func load() (*compiled, error) {
	compileOnce.Do(compileAll)
	return &compiledSet, compiledSet.err
}

// ValidateCredential validates a whole credential against the schema of the type called
// name, then checks in Go what the schema cannot: the type array names no other Civitas
// type, and a residency's residencePeriod.until is not before its from. credential is a
// decoded JSON value (encoding/json, with or without UseNumber). It returns
// ErrUnknownType for an unknown name and a *ValidationError (wrapping ErrSchema) for a
// credential that does not match.
func ValidateCredential(name string, credential any) error {
	issues, err := validate(name, credential)
	if err != nil {
		return err
	}
	if len(issues) > 0 {
		return &ValidationError{Type: name, Issues: issues}
	}
	return nil
}

// ValidateSubject validates a credentialSubject of the type called name, by placing it in
// a minimal credential (@context [CredentialsV2URL, ContextURL], type Types) and
// validating that. Issue paths are relative to the subject.
func ValidateSubject(name string, subject any) error {
	i := index(name)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrUnknownType, name)
	}
	types := make([]any, len(registry[i].Types))
	for j, s := range registry[i].Types {
		types[j] = s
	}
	cred := map[string]any{
		"@context":          []any{CredentialsV2URL, ContextURL},
		"type":              types,
		"credentialSubject": subject,
	}
	issues, err := validate(name, cred)
	if err != nil {
		return err
	}
	if len(issues) == 0 {
		return nil
	}
	for j := range issues {
		p := issues[j].Path
		if p == "/credentialSubject" || strings.HasPrefix(p, "/credentialSubject/") {
			issues[j].Path = p[len("/credentialSubject"):]
		}
	}
	return &ValidationError{Type: name, Issues: issues}
}

func validate(name string, credential any) ([]Issue, error) {
	if index(name) < 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, name)
	}
	c, err := load()
	if err != nil {
		return nil, err
	}
	var issues []Issue
	if err := c.schemas[name].Validate(credential); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, fmt.Errorf("schemas: validate %s: %w", name, err)
		}
		issues = c.collect(ve, issues)
	}
	issues = goChecks(name, credential, issues)
	slices.SortFunc(issues, func(a, b Issue) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return slices.Compact(issues), nil
}

// goChecks adds the rules JSON Schema cannot express.
func goChecks(name string, credential any, issues []Issue) []Issue {
	cred, ok := credential.(map[string]any)
	if !ok {
		return issues
	}
	if types, ok := cred["type"].([]any); ok {
		for _, t := range registry {
			if t.Name != name && slices.Contains(types, any(t.Name)) {
				issues = append(issues, Issue{Path: "/type", Message: fmt.Sprintf("must not also name %s", t.Name)})
			}
		}
	}
	if name == Residency {
		subject, _ := cred["credentialSubject"].(map[string]any)
		period, _ := subject["residencePeriod"].(map[string]any)
		from, okFrom := period["from"].(string)
		until, okUntil := period["until"].(string)
		if okFrom && okUntil {
			f, errF := time.Parse(time.DateOnly, from)
			u, errU := time.Parse(time.DateOnly, until)
			if errF == nil && errU == nil && u.Before(f) {
				issues = append(issues, Issue{
					Path:    "/credentialSubject/residencePeriod/until",
					Message: fmt.Sprintf("%s is before from (%s)", strconv.Quote(until), from),
				})
			}
		}
	}
	return issues
}

// collect turns the library's error tree into issues, one per leaf.
func (c *compiled) collect(ve *jsonschema.ValidationError, out []Issue) []Issue {
	path := pointer(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference:
		for _, cause := range ve.Causes {
			out = c.collect(cause, out)
		}
		return out
	case *kind.Required:
		for _, m := range k.Missing {
			out = append(out, Issue{Path: path + "/" + escape(m), Message: "is required"})
		}
		return out
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			out = append(out, Issue{Path: path + "/" + escape(p), Message: "is not allowed"})
		}
		return out
	case *kind.Contains:
		return append(out, Issue{Path: path, Message: c.containsMessage(ve.SchemaURL)})
	}
	if len(ve.Causes) > 0 { // anyOf, oneOf, not, ...: report the causes
		for _, cause := range ve.Causes {
			out = c.collect(cause, out)
		}
		return out
	}
	return append(out, Issue{Path: path, Message: message(ve.ErrorKind)})
}

// containsMessage names the value a failed "contains" wanted, read from the schema.
func (c *compiled) containsMessage(schemaURL string) string {
	base, frag, _ := strings.Cut(schemaURL, "#")
	node := c.raw[base]
	if frag != "" {
		if f, err := url.PathUnescape(frag); err == nil {
			frag = f
		}
		for tok := range strings.SplitSeq(strings.TrimPrefix(frag, "/"), "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch n := node.(type) {
			case map[string]any:
				node = n[tok]
			case []any:
				i, err := strconv.Atoi(tok)
				if err != nil || i < 0 || i >= len(n) {
					node = nil
				} else {
					node = n[i]
				}
			default:
				node = nil
			}
		}
	}
	if m, ok := node.(map[string]any); ok {
		if cm, ok := m["contains"].(map[string]any); ok {
			if want, ok := cm["const"]; ok {
				return "must contain " + show(want)
			}
		}
	}
	return "does not contain a required value"
}

// message words one leaf error.
func message(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("must be %s (got %s)", article(strings.Join(k.Want, " or ")), k.Got)
	case *kind.Const:
		return "must be " + show(k.Want)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = show(w)
		}
		return "must be one of " + strings.Join(want, ", ")
	case *kind.Format:
		what := k.Want
		switch k.Want {
		case "date":
			what = "date (YYYY-MM-DD)"
		case "uri":
			what = "absolute URI"
		}
		return fmt.Sprintf("%s is not a valid %s", show(k.Got), what)
	case *kind.Pattern:
		return patternMessage(k)
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters (got %d)", k.Want, k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items", k.Want)
	case *kind.UniqueItems:
		return "must not repeat items"
	case *kind.Minimum:
		return fmt.Sprintf("must be at least %s", k.Want.RatString())
	case *kind.Maximum:
		return fmt.Sprintf("must be at most %s", k.Want.RatString())
	case *kind.FalseSchema:
		return "is not allowed"
	case *kind.InvalidJsonValue:
		return "is not a JSON value"
	}
	return "fails " + strings.Join(k.KeywordPath(), "/")
}

// patternMessage explains the patterns the embedded schemas use.
func patternMessage(k *kind.Pattern) string {
	switch {
	case k.Want == patternDID:
		return show(k.Got) + " is not a valid DID"
	case k.Want == patternNotBlank:
		return "must not be blank"
	case k.Want == patternNoSpace:
		return "must not contain whitespace"
	case k.Want == patternCountry:
		return show(k.Got) + " is not an ISO 3166-1 alpha-2 country code"
	case k.Want == patternAchieveTy:
		return show(k.Got) + " is not an Open Badges achievement type (a capitalized name or ext:name)"
	}
	return show(k.Got) + " does not match the required pattern"
}

func article(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + s
	}
	return "a " + s
}

// show renders a value for a message, shortened.
func show(v any) string {
	const n = 48
	if s, ok := v.(string); ok {
		if len(s) > n {
			s = strings.ToValidUTF8(s[:n], "") + "…"
		}
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(escape(t))
	}
	return sb.String()
}

func escape(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}
