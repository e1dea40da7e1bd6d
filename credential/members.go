package credential

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// contexts reads @context: a URL or a list of URLs whose first entry is ContextV2.
func contexts(doc map[string]any) ([]string, error) {
	list, err := stringList(doc["@context"], "@context")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: @context is required", ErrMalformed)
	}
	if list[0] != ContextV2 {
		return nil, fmt.Errorf("%w: the first @context must be %s", ErrMalformed, ContextV2)
	}
	for _, c := range list {
		if !isURL(c) {
			return nil, fmt.Errorf("%w: @context entry %q is not a URL", ErrMalformed, c)
		}
	}
	return list, nil
}

// types reads type, which must be present and include want.
func types(doc map[string]any, want string) ([]string, error) {
	list, err := stringList(doc["type"], "type")
	if err != nil {
		return nil, err
	}
	for _, t := range list {
		if t == want {
			return list, nil
		}
	}
	return nil, fmt.Errorf("%w: type must include %s", ErrMalformed, want)
}

// stringList reads a member that is a string or a non-empty array of strings. A nil v
// yields an empty list. Inline objects are refused with a message naming the member.
func stringList(v any, name string) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%w: %s must not be an empty array", ErrMalformed, name)
		}
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				if _, isObj := e.(map[string]any); isObj && name == "@context" {
					return nil, fmt.Errorf("%w: %w: inline @context objects are not accepted", ErrMalformed, ErrContext)
				}
				return nil, fmt.Errorf("%w: %s entries must be strings", ErrMalformed, name)
			}
			out[i] = s
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: %s must be a string or an array of strings", ErrMalformed, name)
	}
}

// objects reads a member that is an object or a non-empty array of objects.
func objects(doc map[string]any, name string, required bool) ([]map[string]any, error) {
	switch v := doc[name].(type) {
	case nil:
		if _, present := doc[name]; present || required {
			return nil, fmt.Errorf("%w: %s is required", ErrMalformed, name)
		}
		return nil, nil
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%w: %s must not be an empty array", ErrMalformed, name)
		}
		out := make([]map[string]any, len(v))
		for i, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: %s entries must be objects", ErrMalformed, name)
			}
			out[i] = m
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: %s must be an object or an array of objects", ErrMalformed, name)
	}
}

// optionalURL reads m[key], which may be absent but must otherwise be a URL.
func optionalURL(m map[string]any, key string) (string, error) {
	v, present := m[key]
	if !present {
		return "", nil
	}
	s, ok := v.(string)
	if !ok || !isURL(s) {
		return "", fmt.Errorf("%w: %s must be a URL", ErrMalformed, key)
	}
	return s, nil
}

// requiredURL reads m[key], which must be a URL; label names it in errors.
func requiredURL(m map[string]any, key, label string) (string, error) {
	s, ok := m[key].(string)
	if !ok || !isURL(s) {
		return "", fmt.Errorf("%w: %s must be a URL", ErrMalformed, label)
	}
	return s, nil
}

// optionalTime reads a dateTimeStamp member.
func optionalTime(doc map[string]any, key string) (time.Time, error) {
	v, present := doc[key]
	if !present {
		return time.Time{}, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %s must be a date-time string", ErrMalformed, key)
	}
	t, err := ParseDateTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s: %w", ErrMalformed, key, err)
	}
	return t, nil
}

// isURL reports whether s is an absolute URI (RFC 3986): a scheme, then anything
// without spaces or control characters. DIDs and URNs qualify.
func isURL(s string) bool {
	if s == "" || len(s) > 8192 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Opaque != "" || u.Host != "" || u.Path != "")
}

// ParseDateTime parses an XML Schema dateTimeStamp as VC 2.0 uses it: an RFC 3339
// date-time with an upper-case T and a time zone (Z or ±hh:mm), years 0001 to 9999.
func ParseDateTime(s string) (time.Time, error) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[10] != 'T' {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time with a time zone", s)
	}
	return t, nil
}

// FormatDateTime formats t as VC 2.0 dateTimeStamp in UTC with second precision, the
// form Civitas writes.
func FormatDateTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}
