package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// benchPolicy is a policy of 50 rules: 40 conditions over ten servers (four
// of which match the benchmarked tool, so a call evaluates them), and grants
// for five teams and two roles across those servers.
func benchPolicy() Policy {
	p := Policy{Default: Deny, Teams: map[string]Grants{}, Roles: map[string]Grants{}}
	for t := range 5 {
		g := Grants{Servers: map[string]ServerGrant{}}
		for s := range 10 {
			g.Servers[fmt.Sprintf("server%d", s)] = ServerGrant{Tools: ToolRules{Allow: []string{"get_*", "list_*", "query"}, Deny: []string{"delete_*"}}}
		}
		p.Teams[fmt.Sprintf("team%d", t)] = g
	}
	p.Teams["*"] = Grants{Servers: map[string]ServerGrant{"docs": {}}}
	p.Roles["admin"] = Grants{Servers: map[string]ServerGrant{"*": {}}}
	p.Roles["reader"] = Grants{Servers: map[string]ServerGrant{"*": {Tools: ToolRules{Allow: []string{"get_*"}}}}}
	conds := []string{
		`has(args.table) && args.table == "salaries" && identity.team != "finance"`,
		`has(args.limit) && args.limit > 1000`,
		`has(args.sql) && args.sql.lowerAscii().startsWith("drop")`,
		`"oncall" in identity.roles && server == "server9"`,
	}
	for i := range 40 {
		p.Rules = append(p.Rules, Rule{Server: fmt.Sprintf("server%d", i%10), Tool: "query", When: conds[i/10], Effect: Deny})
	}
	for i := range 10 {
		p.Rules = append(p.Rules, Rule{Server: fmt.Sprintf("server%d", i), Tool: "export_*", Effect: Deny})
	}
	return p
}

// BenchmarkDecide measures one decision with 50 rules (the target:
// at most 10 µs). "conditions": a tools/call that four CEL rules apply to,
// its arguments decoded; "cached": a call no condition applies to;
// "explain": the first with the explanation chain built.
func BenchmarkDecide(b *testing.B) {
	e, err := Compile(benchPolicy())
	if err != nil {
		b.Fatal(err)
	}
	id := Identity{User: "ada@example.com", Team: "team3", Roles: []string{"reader", "oncall"}}
	args := json.RawMessage(`{"sql":"SELECT name, amount FROM invoices WHERE paid = false","table":"invoices","limit":100}`)
	query := Input{Identity: id, Server: "server3", Name: "query", Exposed: "server3__query", Args: args}
	get := Input{Identity: id, Server: "server3", Name: "get_invoice", Exposed: "server3__get_invoice", Args: args}
	if d := e.decide(&query, false); !d.Allow || len(e.matching(Tool, "server3", "query")) != 4 {
		b.Fatalf("the benchmark's call should be allowed after 4 conditions: %+v", d)
	}
	b.Run("conditions", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.decide(&query, false)
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.decide(&get, false)
		}
	})
	b.Run("explain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.Decide(query)
		}
	})
	b.Run("stage", func(b *testing.B) {
		st := &Stage{Policies: Layers{User: e}}
		c := &callpath.Call{Kind: callpath.ToolCall, Exposed: query.Exposed, Server: query.Server, Name: query.Name, Params: args, Identity: id, Session: fakeSession{id: id}}
		b.ReportAllocs()
		for b.Loop() {
			st.CheckRequest(context.Background(), c)
		}
	})
}
