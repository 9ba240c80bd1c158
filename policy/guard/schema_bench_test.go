package guard_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// typicalSchema is a tool's input schema of the usual size and shape: a
// GitHub create_issue, as the reference servers declare it.
const typicalSchema = `{"type":"object","properties":{
	"owner":{"type":"string","description":"Repository owner (user or organization)"},
	"repo":{"type":"string","description":"Repository name"},
	"title":{"type":"string","description":"Issue title","minLength":1},
	"body":{"type":"string","description":"Issue body content"},
	"assignees":{"type":"array","items":{"type":"string"},"description":"Usernames to assign to this issue"},
	"labels":{"type":"array","items":{"type":"string"},"description":"Labels to apply to this issue"},
	"milestone":{"type":"number","description":"Milestone number to assign"},
	"state":{"type":"string","enum":["open","closed"]}},
	"required":["owner","repo","title"],"additionalProperties":false,
	"$schema":"http://json-schema.org/draft-07/schema#"}`

const typicalArgs = `{"owner":"acme","repo":"api","title":"Timeouts on /v1/orders","body":"Since the deploy at 14:02 the p99 of /v1/orders is above 2s; see the dashboard.","labels":["bug","p1"],"assignees":["ana"],"milestone":3,"state":"open"}`

// ratioToDecode is the cost of op relative to the baseline, decoding
// typicalArgs into Go values (the least any check of arguments by value
// costs), timed in alternating batches so that the load of a shared
// machine weighs on both alike. The benchmark's timer is stopped.
func ratioToDecode(b *testing.B, op func()) float64 {
	b.StopTimer()
	defer b.StartTimer()
	var opT, baseT time.Duration
	for range 40 {
		start := time.Now()
		for range 50 {
			op()
		}
		mid := time.Now()
		for range 50 {
			var v any
			if err := json.Unmarshal([]byte(typicalArgs), &v); err != nil {
				b.Fatal(err)
			}
		}
		opT, baseT = opT+mid.Sub(start), baseT+time.Since(mid)
	}
	return float64(opT) / float64(baseT)
}

// BenchmarkSchemaCheck is the schema check of one tools/call as the
// gateway runs it (the stage, its cache hit, decoding and validation),
// reported in ns/op and as a ratio to decoding the arguments alone
// (x-decode), measured in the same run.
func BenchmarkSchemaCheck(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name, schema, args string
		problems           bool
	}{
		{"typical/valid", typicalSchema, typicalArgs, false},
		{"typical/wrong-type", typicalSchema, `{"owner":"acme","repo":"api","title":"x","milestone":"3"}`, true},
		{"no-parameters", `{"type":"object"}`, `{}`, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st := guard.NewSchemaCheck(&guard.SchemaCheckOptions{Mode: guard.SchemaWarn})
			c := &callpath.Call{Kind: callpath.ToolCall, Exposed: "github__create_issue", Server: "github", Name: "create_issue",
				Def:    json.RawMessage(`{"name":"github__create_issue","description":"Create a new issue in a GitHub repository","inputSchema":` + bc.schema + `}`),
				Params: json.RawMessage(bc.args), Session: session{}}
			if v := st.CheckRequest(ctx, c); (v != nil) != bc.problems {
				b.Fatalf("verdict %+v; want problems: %v", v, bc.problems)
			}
			b.ReportAllocs()
			for b.Loop() {
				st.CheckRequest(ctx, c)
			}
			b.ReportMetric(ratioToDecode(b, func() { st.CheckRequest(ctx, c) }), "x-decode")
		})
	}
	// What the cache saves each call: compiling the definition.
	b.Run("compile", func(b *testing.B) {
		def := json.RawMessage(`{"name":"t","inputSchema":` + typicalSchema + `}`)
		compile := func() {
			if _, err := guard.CompileToolSchema(def); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			compile()
		}
		b.ReportMetric(ratioToDecode(b, compile), "x-decode")
	})
}
