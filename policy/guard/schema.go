package guard

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	segjson "github.com/segmentio/encoding/json"
)

// Schema is a tool's inputSchema compiled once, to check the arguments of
// many calls against it. The decision is jsonschema-go's (the JSON Schema
// implementation the MCP SDK itself validates with); what [Schema.Check]
// says about a failure is this package's own (see schema_explain.go), because
// jsonschema-go names the schema location that failed rather than the
// argument, and quotes the argument's value, which must not reach the
// record.
type Schema struct {
	root     *jsonschema.Schema
	resolved *jsonschema.Resolved
	draft7   bool
	// trivial: the schema asks for an object and nothing more, as many
	// tools without parameters declare, so a check needs no decoding.
	trivial bool
}

// Problem is one way a call's arguments fail their tool's schema: where,
// as a JSON path under $.arguments, and what is wrong, in words a model can
// act on. It never holds the argument's value.
type Problem struct {
	Path    string // e.g. $.arguments.count, $.arguments.items[2].name
	Message string // e.g. expected integer, got string
}

// String is the problem as a model reads it:
// argument "count": expected integer, got string.
func (p Problem) String() string {
	name := strings.TrimPrefix(strings.TrimPrefix(p.Path, argsRoot), ".")
	switch {
	case name == "":
		return "arguments: " + p.Message
	case strings.Contains(name, `"`):
		// A member that is no identifier is quoted in the path already:
		// argument ["dry run"].
		return fmt.Sprintf("argument %s: %s", name, p.Message)
	}
	return fmt.Sprintf("argument %q: %s", name, p.Message)
}

// argsRoot is the JSON path of a call's arguments, as findings name it.
const argsRoot = "$.arguments"

// The $schema values jsonschema-go validates by, and common spellings of
// them that mean the same draft.
var schemaDialects = map[string]string{
	"http://json-schema.org/draft-07/schema#":       "http://json-schema.org/draft-07/schema#",
	"http://json-schema.org/draft-07/schema":        "http://json-schema.org/draft-07/schema#",
	"https://json-schema.org/draft-07/schema#":      "https://json-schema.org/draft-07/schema#",
	"https://json-schema.org/draft-07/schema":       "https://json-schema.org/draft-07/schema#",
	"https://json-schema.org/draft/2020-12/schema":  "https://json-schema.org/draft/2020-12/schema",
	"https://json-schema.org/draft/2020-12/schema#": "https://json-schema.org/draft/2020-12/schema",
	"http://json-schema.org/draft/2020-12/schema":   "https://json-schema.org/draft/2020-12/schema",
	"http://json-schema.org/draft/2020-12/schema#":  "https://json-schema.org/draft/2020-12/schema",
}

// CompileToolSchema compiles the inputSchema of a tool definition (a Tool
// as tools/list lists it). A definition without one checks only that the
// arguments are an object.
func CompileToolSchema(def json.RawMessage) (*Schema, error) {
	var t struct {
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	if err := json.Unmarshal(def, &t); err != nil {
		return nil, fmt.Errorf("reading the tool definition: %w", err)
	}
	if len(t.InputSchema) == 0 || string(t.InputSchema) == "null" {
		return CompileSchema(json.RawMessage(`{"type":"object"}`))
	}
	return CompileSchema(t.InputSchema)
}

// CompileSchema compiles a JSON Schema (draft-07 or 2020-12, the drafts
// jsonschema-go validates). It fails for a schema that is not one, or whose
// references do not resolve within it: nothing is fetched over the network.
func CompileSchema(raw json.RawMessage) (s *Schema, err error) {
	defer func() {
		// jsonschema-go asserts its invariants with panics; a schema that
		// trips one is a schema that cannot be compiled, not a crash.
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("compiling the schema: %v", r)
		}
	}()
	root := new(jsonschema.Schema)
	if err := json.Unmarshal(raw, root); err != nil {
		return nil, fmt.Errorf("reading the schema: %w", err)
	}
	if root.Schema != "" {
		d, ok := schemaDialects[root.Schema]
		if !ok {
			return nil, fmt.Errorf("$schema %q is a draft that is not checked (draft-07 and 2020-12 are)", root.Schema)
		}
		root.Schema = d
	}
	if err := checkTypeNames(raw); err != nil {
		return nil, err
	}
	resolved, err := root.Resolve(nil)
	if err != nil {
		return nil, err
	}
	return &Schema{root: root, resolved: resolved, draft7: strings.Contains(root.Schema, "draft-07"), trivial: onlyObject(root)}, nil
}

// onlyObject reports whether s asks for an object and constrains nothing
// else about it.
func onlyObject(s *jsonschema.Schema) bool {
	return s.Type == "object" && s.Types == nil && s.Ref == "" && s.DynamicRef == "" &&
		len(s.Properties) == 0 && s.Required == nil && s.PatternProperties == nil && s.AdditionalProperties == nil &&
		s.PropertyNames == nil && s.UnevaluatedProperties == nil && s.MinProperties == nil && s.MaxProperties == nil &&
		s.DependentRequired == nil && s.DependentSchemas == nil && s.DependencySchemas == nil && s.DependencyStrings == nil &&
		s.AllOf == nil && s.AnyOf == nil && s.OneOf == nil && s.Not == nil && s.If == nil && s.Enum == nil && s.Const == nil
}

// errNotChecked wraps what stopped a check from deciding.
var errNotChecked = errors.New("arguments not checked")

// Check checks a call's arguments (a JSON object; nil for none, which is
// checked as {}) against the schema. It returns nil when they match, the
// problems when they do not, or an error when it cannot tell (the caller
// lets the call go on).
func (s *Schema) Check(args json.RawMessage) (problems []Problem, err error) {
	if s.trivial && (len(args) == 0 || firstByte(args) == '{') {
		return nil, nil
	}
	var v any = map[string]any{}
	if len(args) > 0 && string(args) != "null" {
		v = nil
		// segmentio's decoder: the same values as encoding/json's, in
		// about half the time, on the hot path.
		if err := segjson.Unmarshal(args, &v); err != nil {
			return nil, fmt.Errorf("%w: %w", errNotChecked, err)
		}
	}
	if _, ok := v.(map[string]any); !ok {
		return []Problem{{Path: argsRoot, Message: "must be a JSON object of named arguments, got " + jsonTypeOf(v)}}, nil
	}
	defer func() {
		if r := recover(); r != nil {
			problems, err = nil, fmt.Errorf("%w: the validator failed: %v", errNotChecked, r)
		}
	}()
	verr := s.resolved.Validate(v)
	if verr == nil {
		return nil, nil
	}
	if strings.HasPrefix(verr.Error(), "cannot validate version") {
		return nil, fmt.Errorf("%w: %w", errNotChecked, verr)
	}
	e := explainer{root: s.root, draft7: s.draft7}
	e.value(s.root, v, argsRoot, 0)
	if len(e.problems) == 0 {
		// A keyword the explanation does not follow (if/then, not,
		// unevaluatedProperties ...): say which, without the value.
		return []Problem{{Path: argsRoot, Message: "do not match the tool's input schema (" + keywordOf(verr) + ")"}}, nil
	}
	return e.problems, nil
}

// keywordOf is the JSON Schema keyword a jsonschema-go validation error
// names, such as "not" or "if": the start of its innermost message.
func keywordOf(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "validating "); i >= 0 {
		if j := strings.Index(msg[i:], ": "); j >= 0 {
			msg = msg[i+j+2:]
		}
	}
	if i := strings.IndexAny(msg, ": "); i > 0 {
		msg = msg[:i]
	}
	if msg == "unexpected" {
		return "additionalProperties"
	}
	for _, c := range msg {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '$') {
			return "a constraint"
		}
	}
	if msg == "" {
		return "a constraint"
	}
	return msg
}

// firstByte is the first byte of b that is not JSON whitespace.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// jsonTypes are the type names JSON Schema knows.
var jsonTypes = map[string]bool{"null": true, "boolean": true, "object": true, "array": true, "number": true, "integer": true, "string": true}

// checkTypeNames refuses a schema that names a type JSON Schema does not
// know: jsonschema-go compiles it, and then fails every value against it,
// which would block every call of a tool for a typo in its schema.
func checkTypeNames(raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("reading the schema: %w", err)
	}
	return typeNamesIn(v, 0)
}

func typeNamesIn(v any, depth int) error {
	if depth > 256 {
		return errors.New("the schema nests too deeply")
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := typeNamesIn(e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range x {
			switch k {
			case "type":
				names, ok := e.([]any)
				if !ok {
					names = []any{e}
				}
				for _, n := range names {
					if s, _ := n.(string); !jsonTypes[s] {
						return fmt.Errorf("type %v is not a JSON Schema type (null, boolean, object, array, number, integer, string)", n)
					}
				}
			case "enum", "const", "default", "examples":
				// Values, not schemas.
			case "properties", "$defs", "definitions", "patternProperties", "dependentSchemas":
				if m, ok := e.(map[string]any); ok {
					for _, sub := range m {
						if err := typeNamesIn(sub, depth+1); err != nil {
							return err
						}
					}
				}
			default:
				if err := typeNamesIn(e, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
