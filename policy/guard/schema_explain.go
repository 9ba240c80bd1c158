package guard

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
)

// Explaining a failed check: jsonschema-go has decided the arguments do not
// match, and the explainer walks them beside the schema to say where and
// why, for the keywords a model can act on (types, required and unexpected
// arguments, enums, bounds, patterns, items, local $refs, allOf, anyOf,
// oneOf and if/then/else). It runs only after a failure, so it may be
// slow; it never decides, and it never quotes a value from the arguments.

// maxProblems bounds what one failed check reports.
const maxProblems = 8

// maxDepth bounds the walk, against $ref cycles that never reach a value.
const maxDepth = 64

type explainer struct {
	root     *jsonschema.Schema
	draft7   bool
	problems []Problem
}

func (e *explainer) add(path, format string, args ...any) {
	if len(e.problems) < maxProblems {
		e.problems = append(e.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
}

// value explains how v, at path, fails s.
func (e *explainer) value(s *jsonschema.Schema, v any, path string, depth int) {
	if s == nil || depth > maxDepth || len(e.problems) >= maxProblems {
		return
	}
	if s.Not != nil && reflect.ValueOf(*s.Not).IsZero() {
		e.add(path, "is not accepted here") // the false schema
		return
	}
	if s.Ref != "" {
		if t := e.ref(s.Ref); t != nil {
			before := len(e.problems)
			e.value(t, v, path, depth+1)
			if e.draft7 || len(e.problems) > before {
				return // draft-07 ignores a $ref's siblings
			}
		}
	}
	got := jsonTypeOf(v)
	if want := typesOf(s); len(want) > 0 && !typeIn(got, want) {
		e.add(path, "expected %s, got %s", orList(want), got)
		return
	}
	if s.Enum != nil && !slices.ContainsFunc(s.Enum, func(x any) bool { return sameJSON(x, v) }) {
		e.add(path, "must be one of %s", valuesList(s.Enum))
		return
	}
	if s.Const != nil && !sameJSON(*s.Const, v) {
		e.add(path, "must be %s", valuesList([]any{*s.Const}))
		return
	}
	before := len(e.problems)
	switch x := v.(type) {
	case string:
		e.str(s, x, path)
	case float64:
		e.number(s, x, path)
	case []any:
		e.array(s, x, path, depth)
	case map[string]any:
		e.object(s, x, path, depth)
	}
	for _, sub := range s.AllOf {
		e.value(sub, v, path, depth+1)
	}
	if s.If != nil {
		cond := explainer{root: e.root, draft7: e.draft7}
		cond.value(s.If, v, path, depth+1)
		if len(cond.problems) == 0 {
			e.value(s.Then, v, path, depth+1)
		} else {
			e.value(s.Else, v, path, depth+1)
		}
	}
	if len(e.problems) > before {
		return
	}
	if len(s.AnyOf) > 0 {
		e.oneOfAny(s.AnyOf, v, path, depth)
	}
	if len(s.OneOf) > 0 {
		e.oneOfAny(s.OneOf, v, path, depth)
	}
}

// oneOfAny explains a value that matches none of branches (anyOf, or
// oneOf with none matching). When every branch fails only on the type, it
// says which types would do; when one branch fails nowhere the explainer
// can see, it says nothing (the branch may fail on something it does not
// follow, or oneOf may have matched twice).
func (e *explainer) oneOfAny(branches []*jsonschema.Schema, v any, path string, depth int) {
	var want []string
	onlyTypes := true
	for _, b := range branches {
		sub := explainer{root: e.root, draft7: e.draft7}
		sub.value(b, v, path, depth+1)
		if len(sub.problems) == 0 {
			return
		}
		p := sub.problems[0]
		if len(sub.problems) == 1 && p.Path == path && strings.HasPrefix(p.Message, "expected ") {
			w, _, _ := strings.Cut(strings.TrimPrefix(p.Message, "expected "), ", got ")
			for _, t := range strings.Split(strings.ReplaceAll(w, " or ", ", "), ", ") {
				if !slices.Contains(want, t) {
					want = append(want, t)
				}
			}
			continue
		}
		onlyTypes = false
	}
	if onlyTypes && len(want) > 0 {
		e.add(path, "expected %s, got %s", orList(want), jsonTypeOf(v))
		return
	}
	e.add(path, "matches none of the %d forms the schema allows", len(branches))
}

func (e *explainer) str(s *jsonschema.Schema, v, path string) {
	n := utf8.RuneCountInString(v)
	if s.MinLength != nil && n < *s.MinLength {
		e.add(path, "must be at least %d characters long", *s.MinLength)
	}
	if s.MaxLength != nil && n > *s.MaxLength {
		e.add(path, "must be at most %d characters long", *s.MaxLength)
	}
	if s.Pattern != "" {
		if re, err := regexp.Compile(s.Pattern); err == nil && !re.MatchString(v) {
			e.add(path, "must match the pattern %s", s.Pattern)
		}
	}
}

func (e *explainer) number(s *jsonschema.Schema, v float64, path string) {
	switch {
	case s.Minimum != nil && v < *s.Minimum:
		e.add(path, "must be at least %s", num(*s.Minimum))
	case s.ExclusiveMinimum != nil && v <= *s.ExclusiveMinimum:
		e.add(path, "must be greater than %s", num(*s.ExclusiveMinimum))
	}
	switch {
	case s.Maximum != nil && v > *s.Maximum:
		e.add(path, "must be at most %s", num(*s.Maximum))
	case s.ExclusiveMaximum != nil && v >= *s.ExclusiveMaximum:
		e.add(path, "must be less than %s", num(*s.ExclusiveMaximum))
	}
	if m := s.MultipleOf; m != nil && *m > 0 {
		if q := v / *m; math.Abs(q-math.Round(q)) > 1e-9 {
			e.add(path, "must be a multiple of %s", num(*m))
		}
	}
}

func (e *explainer) array(s *jsonschema.Schema, v []any, path string, depth int) {
	if s.MinItems != nil && len(v) < *s.MinItems {
		e.add(path, "must have at least %d items", *s.MinItems)
	}
	if s.MaxItems != nil && len(v) > *s.MaxItems {
		e.add(path, "must have at most %d items", *s.MaxItems)
	}
	prefix := s.PrefixItems
	if s.ItemsArray != nil {
		prefix = s.ItemsArray // draft-07's items: [...]
	}
	rest := s.Items
	if s.ItemsArray != nil {
		rest = s.AdditionalItems
	}
	for i, item := range v {
		p := path + "[" + strconv.Itoa(i) + "]"
		if i < len(prefix) {
			e.value(prefix[i], item, p, depth+1)
		} else {
			e.value(rest, item, p, depth+1)
		}
	}
}

func (e *explainer) object(s *jsonschema.Schema, v map[string]any, path string, depth int) {
	for _, name := range s.Required {
		if _, ok := v[name]; !ok {
			e.add(member(path, name), "is required but missing")
		}
	}
	var extra []string
	for _, name := range sortedKeys(v) {
		p, matched := member(path, name), false
		if sub, ok := s.Properties[name]; ok {
			e.value(sub, v[name], p, depth+1)
			matched = true
		}
		for pat, sub := range s.PatternProperties {
			if re, err := regexp.Compile(pat); err == nil && re.MatchString(name) {
				e.value(sub, v[name], p, depth+1)
				matched = true
			}
		}
		if matched || s.AdditionalProperties == nil {
			continue
		}
		if a := s.AdditionalProperties; a.Not != nil && reflect.ValueOf(*a.Not).IsZero() {
			extra = append(extra, name)
			continue
		}
		e.value(s.AdditionalProperties, v[name], p, depth+1)
	}
	what := "a property this object"
	if path == argsRoot {
		what = "an argument this tool"
	}
	for _, name := range extra {
		takes := "none"
		if len(s.Properties) > 0 {
			takes = strings.Join(limit(sortedKeys(s.Properties), 20), ", ")
		}
		e.add(member(path, name), "is not %s takes (it takes: %s)", what, takes)
	}
}

// ref finds a $ref's target within the root schema: "#" and JSON pointers
// ("#/$defs/Item"); anything else (anchors, other documents) is not
// followed.
func (e *explainer) ref(ref string) *jsonschema.Schema {
	if ref == "#" {
		return e.root
	}
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	s := e.root
	tokens := strings.Split(ptr, "/")
	for i := 0; i < len(tokens) && s != nil; i++ {
		tok := func(i int) string {
			t, err := url.PathUnescape(tokens[i])
			if err != nil {
				t = tokens[i]
			}
			return strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		}
		next := func(m map[string]*jsonschema.Schema) *jsonschema.Schema {
			if i+1 >= len(tokens) {
				return nil
			}
			i++
			return m[tok(i)]
		}
		index := func(l []*jsonschema.Schema) *jsonschema.Schema {
			if i+1 >= len(tokens) {
				return nil
			}
			i++
			n, err := strconv.Atoi(tokens[i])
			if err != nil || n < 0 || n >= len(l) {
				return nil
			}
			return l[n]
		}
		switch tok(i) {
		case "$defs":
			s = next(s.Defs)
		case "definitions":
			s = next(s.Definitions)
		case "properties":
			s = next(s.Properties)
		case "patternProperties":
			s = next(s.PatternProperties)
		case "items":
			if s.Items != nil {
				s = s.Items
			} else {
				s = index(s.ItemsArray)
			}
		case "prefixItems":
			s = index(s.PrefixItems)
		case "additionalProperties":
			s = s.AdditionalProperties
		case "allOf":
			s = index(s.AllOf)
		case "anyOf":
			s = index(s.AnyOf)
		case "oneOf":
			s = index(s.OneOf)
		default:
			return nil
		}
	}
	return s
}

// typesOf is what s's type or types allow.
func typesOf(s *jsonschema.Schema) []string {
	if s.Type != "" {
		return []string{s.Type}
	}
	return s.Types
}

// typeIn reports whether a value of JSON type got is one of want
// ("number" takes integers).
func typeIn(got string, want []string) bool {
	return slices.Contains(want, got) || got == "integer" && slices.Contains(want, "number")
}

// jsonTypeOf is the JSON Schema type of a decoded JSON value, as
// jsonschema-go tells them apart: a number with no fraction is an integer.
func jsonTypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if _, f := math.Modf(x); f == 0 {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// sameJSON reports whether two decoded JSON values are equal as JSON.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// valuesList is a schema's allowed values as JSON, a few of them.
func valuesList(vs []any) string {
	out := make([]string, 0, len(vs))
	for _, v := range limit(vs, 12) {
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	if len(vs) > 12 {
		out = append(out, fmt.Sprintf("… (%d in all)", len(vs)))
	}
	return strings.Join(out, ", ")
}

// orList is "integer", "integer or null", "string, integer or null".
func orList(ts []string) string {
	if len(ts) == 1 {
		return ts[0]
	}
	return strings.Join(ts[:len(ts)-1], ", ") + " or " + ts[len(ts)-1]
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// member is the JSON path of an object's member: path.name, or
// path["a name"] when the name is not an identifier.
func member(path, name string) string {
	if isIdent(name) {
		return path + "." + name
	}
	return path + "[" + strconv.Quote(name) + "]"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func limit[T any](l []T, n int) []T {
	if len(l) > n {
		return l[:n]
	}
	return l
}
