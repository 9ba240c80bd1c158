package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/logs"
)

// TestSchemaCheck checks tool arguments against the tools' inputSchema
// through a real `mcpgw serve` in front of the fixture, for each agent
// version, on the fast path and the SDK's: with no guardrails: key
// (warn), a call missing a required argument goes on and its row in the
// record has the warning; edited to guardrails: {schema: block}, the
// running gateway refuses a call whose argument has the wrong type with an
// error result naming the argument, filed as blocked by rule schema, and
// the arguments' values are in no finding, reason or error.
func TestSchemaCheck(t *testing.T) {
	fx := testenv.Fixture(t)
	// A value that must not reach what the record says about the check.
	const value = "five-hundred-thousand"
	for _, version := range agentVersions {
		for _, path := range []string{"fast", "sdk"} {
			t.Run(version+"/"+path, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				db, cfgPath := filepath.Join(dir, "record.db"), filepath.Join(dir, "config.yaml")
				writeAtomic(t, cfgPath, fixtureConfig(fx))
				env := []string{"MCPGW_DB=" + db}
				if path == "sdk" {
					env = append(env, "MCPGW_NO_FASTPATH=1")
				}
				a := startServeEnv(t, cfgPath, version, env...)
				ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
				defer cancel()
				waitFor(t, ctx, "fx's tools", func() bool { return slices.Contains(a.toolNames(t, ctx), "fx__add") })

				// warn, the default: the call reaches the server.
				res := callOK(t, ctx, a, "fx__echo", map[string]any{})
				if got := textOf(t, res); got != "" {
					t.Errorf("echo without text answered %q; want the server's answer, empty", got)
				}
				callOK(t, ctx, a, "fx__echo", map[string]any{"text": "fine"})

				// block, applied by the running gateway.
				var refusal string
				var written time.Time
				waitFor(t, ctx, "guardrails.schema: block to apply", func() bool {
					if time.Since(written) > 2*time.Second {
						// Again now and then: a write before the gateway's
						// file watch is in place would go unseen.
						writeAtomic(t, cfgPath, fixtureConfig(fx)+"guardrails:\n  schema: block\n")
						written = time.Now()
					}
					res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__add", Arguments: map[string]any{"a": value, "b": 2}})
					if err != nil {
						t.Fatal(err)
					}
					refusal = textOf(t, res)
					return res.IsError && strings.Contains(refusal, "blocked")
				})
				if want := `mcpgw: call to "fx__add" blocked: its arguments do not match the tool's input schema: argument "a": expected number, got string. Correct the arguments and call again`; refusal != want {
					t.Errorf("refusal = %q\nwant %q", refusal, want)
				}
				res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__add", Arguments: map[string]any{"a": 1, "c": 3}})
				wantAll(t, "a call missing b with an argument add does not take", failureText(t, res, err),
					`argument "b": is required but missing`, `argument "c": is not an argument this tool takes (it takes: a, b)`)
				if got := textOf(t, callOK(t, ctx, a, "fx__add", map[string]any{"a": 1, "b": 2})); !strings.Contains(got, "3") {
					t.Errorf("a valid call answered %q", got)
				}
				a.cs.Close()
				a.cmd.Wait()

				var warned, blocked []logs.Call
				for _, c := range recordOf(t, db) {
					if c.Method != "tools/call" {
						continue
					}
					if c.Rule == "schema" && c.Status == logs.StatusOK {
						warned = append(warned, c)
					}
					if c.Rule == "schema" && c.Status == logs.StatusBlocked {
						blocked = append(blocked, c)
					}
					// What mcpgw says of the check (a server's own error,
					// answering a call the check let through, is the server's).
					said, _ := json.Marshal(c.Findings)
					if c.Status == logs.StatusBlocked {
						said = append(said, c.Error...)
					}
					if c.Rule == "schema" && strings.Contains(c.Reason+string(said), value) {
						t.Errorf("the record's reason, error or findings hold an argument's value: %+v", c)
					}
				}
				if len(warned) != 1 || warned[0].Tool != "fx__echo" || warned[0].Decision != "warn" ||
					!strings.Contains(warned[0].Reason, `argument "text": is required but missing`) {
					t.Fatalf("warned rows: %+v; want one, echo's, decision warn, saying text is missing", warned)
				}
				if diff := cmp.Diff([]logs.Finding{{Rule: "schema", Path: "$.arguments.text"}}, warned[0].Findings); diff != "" {
					t.Errorf("warned row's findings (-want +got):\n%s", diff)
				}
				if len(blocked) < 2 {
					t.Fatalf("blocked rows: %+v; want the two refused calls", blocked)
				}
				last := blocked[len(blocked)-1]
				for _, c := range []logs.Call{blocked[0], last} {
					if c.Tool != "fx__add" || c.Decision != "block" || !strings.Contains(c.Error, "do not match the tool's input schema") {
						t.Errorf("blocked row: tool %q, decision %q, error %q", c.Tool, c.Decision, c.Error)
					}
				}
				if diff := cmp.Diff([]logs.Finding{{Rule: "schema", Path: "$.arguments.a"}}, blocked[0].Findings); diff != "" {
					t.Errorf("first blocked row's findings (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]logs.Finding{{Rule: "schema", Path: "$.arguments.b"}, {Rule: "schema", Path: "$.arguments.c"}}, last.Findings); diff != "" {
					t.Errorf("last blocked row's findings (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestSchemaCheckExplained: `mcpgw policy explain` of a tool says what the
// schema check does to its calls, as text and JSON.
func TestSchemaCheckExplained(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	env := []string{"MCPGW_USER=", "MCPGW_TEAM=", "MCPGW_ROLES=", "MCPGW_PROFILE=", "MCPGW_MANAGED_POLICY=", "MCPGW_DB=" + filepath.Join(t.TempDir(), "r.db")}
	for _, tc := range []struct{ config, mode, says string }{
		{"", "warn", "schema:   warn (guardrails.schema): arguments that do not match the tool's inputSchema are noted in the record; the call goes on"},
		{"guardrails: {schema: block}\n", "block", "schema:   block (guardrails.schema): a call whose arguments do not match the tool's inputSchema is refused"},
		{"guardrails: {schema: off}\n", "off", "schema:   off (guardrails.schema): arguments are not checked"},
	} {
		writePolicyConfig(t, cfg, []string{"fx"}, tc.config)
		out, stderr, code := mcpgwCmd(t, env, "", "policy", "explain", "--tool", "fx__add", "-o", "table", "--config", cfg)
		if code != 0 || !strings.Contains(out, tc.says) {
			t.Errorf("%s: explain: exit %d\n%s%s", tc.mode, code, out, stderr)
		}
		out, stderr, code = mcpgwCmd(t, env, "", "policy", "explain", "--tool", "fx__add", "-o", "json", "--config", cfg)
		var e struct {
			SchemaCheck string `json:"schema_check"`
		}
		if err := json.Unmarshal([]byte(out), &e); err != nil || code != 0 || e.SchemaCheck != tc.mode {
			t.Errorf("%s: explain -o json: exit %d, %v, schema_check %q\n%s%s", tc.mode, code, err, e.SchemaCheck, out, stderr)
		}
	}
}
