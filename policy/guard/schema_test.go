package guard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// The schemas below are in the shapes MCP servers send: the go-sdk's
// inferred ones, zod-to-json-schema's draft-07 with $schema, pydantic's
// $defs and anyOf-with-null.

const countSchema = `{"type":"object","properties":{"count":{"type":"integer"},"name":{"type":"string"}},"required":["count"]}`

const closedSchema = `{"type":"object","properties":{"path":{"type":"string"},"recursive":{"type":"boolean"}},"required":["path"],"additionalProperties":false}`

const nestedSchema = `{"type":"object","properties":{
	"filter":{"type":"object","properties":{"limit":{"type":"integer","minimum":1,"maximum":100},"state":{"enum":["open","closed"]}},"required":["state"]},
	"labels":{"type":"array","items":{"type":"string","minLength":2}}}}`

const refSchema = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
	"properties":{"item":{"$ref":"#/$defs/Item"},"items":{"type":"array","items":{"$ref":"#/$defs/Item"}},"note":{"anyOf":[{"type":"string"},{"type":"null"}]}},
	"required":["item"],
	"$defs":{"Item":{"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]{3}-[0-9]+$"},"qty":{"type":"integer","exclusiveMinimum":0}},"required":["sku","qty"]}}}`

const draft7Schema = `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object",
	"properties":{"user":{"$ref":"#/definitions/User"}},"required":["user"],"additionalProperties":false,
	"definitions":{"User":{"type":"object","properties":{"id":{"type":"number"}},"required":["id"]}}}`

func compile(t *testing.T, schema string) *guard.Schema {
	t.Helper()
	s, err := guard.CompileSchema(json.RawMessage(schema))
	if err != nil {
		t.Fatalf("CompileSchema: %v", err)
	}
	return s
}

func TestSchemaCheck(t *testing.T) {
	for _, tc := range []struct {
		name, schema, args string
		want               []string // Problem.String(), in order
		paths              []string
	}{
		{"valid", countSchema, `{"count":5,"name":"x"}`, nil, nil},
		{"valid, a whole float is an integer", countSchema, `{"count":5.0}`, nil, nil},
		{"wrong type", countSchema, `{"count":"5"}`,
			[]string{`argument "count": expected integer, got string`}, []string{"$.arguments.count"}},
		{"a fraction is not an integer", countSchema, `{"count":2.5}`,
			[]string{`argument "count": expected integer, got number`}, []string{"$.arguments.count"}},
		{"missing required", countSchema, `{"name":"x"}`,
			[]string{`argument "count": is required but missing`}, []string{"$.arguments.count"}},
		{"no arguments at all", countSchema, ``,
			[]string{`argument "count": is required but missing`}, []string{"$.arguments.count"}},
		{"null arguments", countSchema, `null`,
			[]string{`argument "count": is required but missing`}, []string{"$.arguments.count"}},
		{"arguments not an object", countSchema, `[1,2]`,
			[]string{`arguments: must be a JSON object of named arguments, got array`}, []string{"$.arguments"}},
		{"additional properties allowed when the schema does not forbid them", countSchema, `{"count":1,"extra":true}`, nil, nil},
		{"additional properties forbidden", closedSchema, `{"path":"/tmp","recursive":true,"force":true,"dry run":1}`,
			[]string{`argument ["dry run"]: is not an argument this tool takes (it takes: path, recursive)`,
				`argument "force": is not an argument this tool takes (it takes: path, recursive)`},
			[]string{`$.arguments["dry run"]`, "$.arguments.force"}},
		{"several problems at once", closedSchema, `{"recursive":"yes"}`,
			[]string{`argument "path": is required but missing`, `argument "recursive": expected boolean, got string`},
			[]string{"$.arguments.path", "$.arguments.recursive"}},
		{"nested valid", nestedSchema, `{"filter":{"limit":10,"state":"open"},"labels":["bug","ui"]}`, nil, nil},
		{"nested bound", nestedSchema, `{"filter":{"limit":0,"state":"open"}}`,
			[]string{`argument "filter.limit": must be at least 1`}, []string{"$.arguments.filter.limit"}},
		{"nested enum and required", nestedSchema, `{"filter":{"limit":500,"state":"merged"}}`,
			[]string{`argument "filter.limit": must be at most 100`, `argument "filter.state": must be one of "open", "closed"`},
			[]string{"$.arguments.filter.limit", "$.arguments.filter.state"}},
		{"nested missing", nestedSchema, `{"filter":{}}`,
			[]string{`argument "filter.state": is required but missing`}, []string{"$.arguments.filter.state"}},
		{"array item", nestedSchema, `{"labels":["ok","x",3]}`,
			[]string{`argument "labels[1]": must be at least 2 characters long`, `argument "labels[2]": expected string, got integer`},
			[]string{"$.arguments.labels[1]", "$.arguments.labels[2]"}},
		{"$ref valid", refSchema, `{"item":{"sku":"ABC-1","qty":2},"items":[{"sku":"XYZ-9","qty":1}],"note":null}`, nil, nil},
		{"$ref to $defs", refSchema, `{"item":{"sku":"abc","qty":0}}`,
			[]string{`argument "item.qty": must be greater than 0`, `argument "item.sku": must match the pattern ^[A-Z]{3}-[0-9]+$`},
			[]string{"$.arguments.item.qty", "$.arguments.item.sku"}},
		{"$ref in array items", refSchema, `{"item":{"sku":"ABC-1","qty":1},"items":[{"sku":"ABC-2"}]}`,
			[]string{`argument "items[0].qty": is required but missing`}, []string{"$.arguments.items[0].qty"}},
		{"anyOf with null", refSchema, `{"item":{"sku":"ABC-1","qty":1},"note":5}`,
			[]string{`argument "note": expected string or null, got integer`}, []string{"$.arguments.note"}},
		{"draft-07 definitions", draft7Schema, `{"user":{"id":"7"}}`,
			[]string{`argument "user.id": expected number, got string`}, []string{"$.arguments.user.id"}},
		{"draft-07 additional", draft7Schema, `{"user":{"id":7},"admin":true}`,
			[]string{`argument "admin": is not an argument this tool takes (it takes: user)`}, []string{"$.arguments.admin"}},
		{"allOf", `{"type":"object","allOf":[{"properties":{"a":{"type":"string"}}},{"required":["b"]}]}`, `{"a":1}`,
			[]string{`argument "a": expected string, got integer`, `argument "b": is required but missing`}, []string{"$.arguments.a", "$.arguments.b"}},
		{"oneOf, none matching", `{"type":"object","properties":{"id":{"oneOf":[{"type":"integer"},{"type":"string","pattern":"^[a-z]+$"}]}}}`, `{"id":"A1"}`,
			[]string{`argument "id": matches none of the 2 forms the schema allows`}, []string{"$.arguments.id"}},
		{"oneOf valid", `{"type":"object","properties":{"id":{"oneOf":[{"type":"integer"},{"type":"string","pattern":"^[a-z]+$"}]}}}`, `{"id":"abc"}`, nil, nil},
		{"if/then", `{"type":"object","properties":{"kind":{"type":"string"},"size":{"type":"integer"}},"if":{"properties":{"kind":{"const":"disk"}}},"then":{"required":["size"]}}`, `{"kind":"disk"}`,
			[]string{`argument "size": is required but missing`}, []string{"$.arguments.size"}},
		{"if/then valid", `{"type":"object","properties":{"kind":{"type":"string"},"size":{"type":"integer"}},"if":{"properties":{"kind":{"const":"disk"}}},"then":{"required":["size"]}}`, `{"kind":"ram"}`, nil, nil},
		{"a keyword the explanation does not follow", `{"type":"object","properties":{"a":{"type":"string"}},"not":{"required":["a"]}}`, `{"a":"x"}`,
			[]string{`arguments: do not match the tool's input schema (not)`}, []string{"$.arguments"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := compile(t, tc.schema).Check(json.RawMessage(tc.args))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			var said, paths []string
			for _, p := range got {
				said, paths = append(said, p.String()), append(paths, p.Path)
			}
			if diff := cmp.Diff(tc.want, said); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.paths, paths); diff != "" {
				t.Errorf("paths (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSchemaProblemsHoldNoValues: what a failed check says names
// arguments and the schema's own words, never what the caller sent.
func TestSchemaProblemsHoldNoValues(t *testing.T) {
	const value = "ghp_notreallyasecret0123456789abcdef"
	for _, schema := range []string{countSchema, closedSchema, nestedSchema, refSchema} {
		args := `{"count":"` + value + `","path":7,"filter":"` + value + `","labels":["` + value + `",1],"item":"` + value + `","note":["` + value + `"]}`
		problems, err := compile(t, schema).Check(json.RawMessage(args))
		if err != nil || len(problems) == 0 {
			t.Fatalf("Check = %v, %v; want problems", problems, err)
		}
		for _, p := range problems {
			if strings.Contains(p.String(), "notreally") || strings.Contains(p.Path, "notreally") {
				t.Errorf("a problem quotes the value: %s", p)
			}
		}
	}
}

func TestCompileSchemaErrors(t *testing.T) {
	for name, schema := range map[string]string{
		"not JSON":                  `{"type":`,
		"bad pattern":               `{"type":"object","properties":{"a":{"type":"string","pattern":"(["}}}`,
		"remote reference":          `{"type":"object","properties":{"a":{"$ref":"https://example.com/a.json"}}}`,
		"dangling reference":        `{"type":"object","properties":{"a":{"$ref":"#/$defs/Nope"}}}`,
		"an unknown type":           `{"type":"objekt"}`,
		"a draft that is not known": `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object"}`,
	} {
		if _, err := guard.CompileSchema(json.RawMessage(schema)); err == nil {
			t.Errorf("%s: compiled; want an error", name)
		}
	}
	// Spellings of the supported drafts compile.
	for _, d := range []string{"http://json-schema.org/draft-07/schema", "https://json-schema.org/draft/2020-12/schema#"} {
		if _, err := guard.CompileSchema(json.RawMessage(`{"$schema":"` + d + `","type":"object"}`)); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

// session is enough of an agent session for request checks.
type session struct{}

func (session) ID() string                  { return "s1" }
func (session) Client() (string, string)    { return "test", "1" }
func (session) ProtocolVersion() string     { return "2025-11-25" }
func (session) Identity() callpath.Identity { return callpath.Identity{} }
func (session) Elicit(context.Context, callpath.Question) (callpath.Answer, error) {
	return callpath.Answer{}, callpath.ErrCannotAsk
}

func schemaCall(def, args string) *callpath.Call {
	c := &callpath.Call{Kind: callpath.ToolCall, Exposed: "fs__list", Server: "fs", Name: "list", Session: session{}}
	if def != "" {
		c.Def = json.RawMessage(def)
	}
	if args != "" {
		c.Params = json.RawMessage(args)
	}
	return c
}

func toolDef(schema string) string {
	return `{"name":"fs__list","description":"Lists a directory.","inputSchema":` + schema + `}`
}

func TestSchemaCheckStage(t *testing.T) {
	ctx := context.Background()
	def := toolDef(closedSchema)

	warn := guard.NewSchemaCheck(nil)
	if warn.Mode() != guard.SchemaWarn {
		t.Errorf("default mode = %q; want warn", warn.Mode())
	}
	if v := warn.CheckRequest(ctx, schemaCall(def, `{"path":"/tmp"}`)); v != nil {
		t.Errorf("valid arguments: %+v", v)
	}
	v := warn.CheckRequest(ctx, schemaCall(def, `{"path":5}`))
	if v == nil || v.Stops() || v.Decision != "warn" || v.Rule != "schema" {
		t.Fatalf("warn: %+v; want a warning that lets the call go on", v)
	}
	if diff := cmp.Diff([]callpath.Finding{{Rule: "schema", Path: "$.arguments.path"}}, v.Findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if want := `the arguments of "fs__list" do not match the tool's input schema: argument "path": expected string, got integer`; v.Reason != want {
		t.Errorf("reason = %q; want %q", v.Reason, want)
	}

	block := guard.NewSchemaCheck(&guard.SchemaCheckOptions{Mode: guard.SchemaBlock})
	v = block.CheckRequest(ctx, schemaCall(def, `{"path":"/tmp","force":true}`))
	if !v.Stops() || v.Status != callpath.Blocked || v.Decision != "block" || v.Rule != "schema" {
		t.Fatalf("block: %+v", v)
	}
	if want := `call to "fs__list" blocked: its arguments do not match the tool's input schema: argument "force": is not an argument this tool takes (it takes: path, recursive). Correct the arguments and call again`; v.Reason != want {
		t.Errorf("reason = %q\nwant %q", v.Reason, want)
	}

	// Off, a change of mode, and what is not checked.
	block.SetMode(guard.SchemaOff)
	if v := block.CheckRequest(ctx, schemaCall(def, `{"path":5}`)); v != nil {
		t.Errorf("off: %+v", v)
	}
	block.SetMode(guard.SchemaBlock)
	if v := block.CheckRequest(ctx, schemaCall(def, `{"path":5}`)); !v.Stops() {
		t.Errorf("back to block: %+v", v)
	}
	if v := block.CheckRequest(ctx, schemaCall("", `{"path":5}`)); v != nil {
		t.Errorf("a call without a definition (the catalog does not list the tool): %+v", v)
	}
	prompt := schemaCall(def, `{"path":5}`)
	prompt.Kind = callpath.PromptGet
	if v := block.CheckRequest(ctx, prompt); v != nil {
		t.Errorf("a prompt: %+v", v)
	}
	// A tool with no inputSchema takes any object.
	if v := block.CheckRequest(ctx, schemaCall(`{"name":"fs__list"}`, `{"anything":1}`)); v != nil {
		t.Errorf("no inputSchema: %+v", v)
	}
}

// TestSchemaUncompilableAllows: a schema that cannot be compiled never
// blocks, and is noted in the log once, not per call.
func TestSchemaUncompilableAllows(t *testing.T) {
	var log bytes.Buffer
	st := guard.NewSchemaCheck(&guard.SchemaCheckOptions{Mode: guard.SchemaBlock, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	def := toolDef(`{"type":"object","properties":{"a":{"$ref":"https://example.com/remote.json"}},"required":["a"]}`)
	for range 3 {
		if v := st.CheckRequest(context.Background(), schemaCall(def, `{}`)); v != nil {
			t.Fatalf("an uncompilable schema blocked: %+v", v)
		}
	}
	if n := strings.Count(log.String(), "cannot be compiled"); n != 1 {
		t.Errorf("logged %d times; want once:\n%s", n, log.String())
	}
	if !strings.Contains(log.String(), "tool=fs__list") {
		t.Errorf("the log does not name the tool:\n%s", log.String())
	}
}

// TestSchemaRecompiledWhenChanged: the compiled schema is the current
// definition's: a tool redefined is checked against its new schema.
func TestSchemaRecompiledWhenChanged(t *testing.T) {
	ctx := context.Background()
	st := guard.NewSchemaCheck(&guard.SchemaCheckOptions{Mode: guard.SchemaBlock})
	before := toolDef(`{"type":"object","properties":{"n":{"type":"string"}}}`)
	after := toolDef(`{"type":"object","properties":{"n":{"type":"integer"}}}`)
	if v := st.CheckRequest(ctx, schemaCall(before, `{"n":"x"}`)); v != nil {
		t.Fatalf("before: %+v", v)
	}
	if v := st.CheckRequest(ctx, schemaCall(after, `{"n":"x"}`)); !v.Stops() {
		t.Errorf("after the definition changed, the old schema still applies: %+v", v)
	}
	if v := st.CheckRequest(ctx, schemaCall(before, `{"n":"x"}`)); v != nil {
		t.Errorf("changed back: %+v", v)
	}
}

// TestSchemaCheckConcurrent: calls of many tools at once share the cache
// (run with -race).
func TestSchemaCheckConcurrent(t *testing.T) {
	st := guard.NewSchemaCheck(&guard.SchemaCheckOptions{Mode: guard.SchemaBlock})
	defs := []string{toolDef(countSchema), toolDef(closedSchema), toolDef(nestedSchema), toolDef(refSchema)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				c := schemaCall(defs[(g+i)%len(defs)], `{"count":"x","path":1,"item":{},"filter":1}`)
				c.Name = fmt.Sprintf("tool%d", (g+i)%3)
				if v := st.CheckRequest(context.Background(), c); !v.Stops() {
					t.Errorf("not blocked: %+v", v)
					return
				}
			}
		}()
	}
	wg.Wait()
}
