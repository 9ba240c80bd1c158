package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// referenceConfig fronts the three npm reference servers and the Go
// fixture, followed by rest (more top-level keys).
func referenceConfig(t testing.TB, rest string) string {
	t.Helper()
	return npmConfig(t) + fmt.Sprintf("  fx:\n    command: %q\n", testenv.Fixture(t)) + rest
}

// npmConfig is the servers: section of the three npm reference servers.
func npmConfig(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "note.txt"), []byte("from the filesystem server"), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`servers:
  everything:
    command: %q
    args: ["stdio"]
  memory:
    command: %q
    env: {MEMORY_FILE_PATH: %q}
  fs:
    command: %q
    args: [%q]
`, testenv.NpmBin(t, "mcp-server-everything"), testenv.NpmBin(t, "mcp-server-memory"), filepath.Join(t.TempDir(), "memory.jsonl"),
		testenv.NpmBin(t, "mcp-server-filesystem"), root)
}

// metaCall calls a tool through mcpgw__call_tool.
func metaCall(ctx context.Context, a *agent, name string, args map[string]any, meta mcp.Meta) (*mcp.CallToolResult, error) {
	in := map[string]any{"name": name}
	if args != nil {
		in["arguments"] = args
	}
	return a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__call_tool", Arguments: in, Meta: meta})
}

// TestSearchMode serves the reference servers and the fixture in search
// mode, under a profile that denies one tool and a limit on another: the
// agent is listed only the gateway's tools and the always-listed one; the
// instructions name every server; search finds tools and never the denied
// one; describe and call refuse it as a direct call is refused; and a call
// through mcpgw__call_tool answers as the direct call does (content,
// structured content, errors, progress, cancellation, the rate limit it
// shares), recorded under the inner tool's name.
func TestSearchMode(t *testing.T) {
	for _, version := range agentVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "record.db")
			cfg := referenceConfig(t, `catalog: {mode: search, always: [memory__read_graph]}
profiles:
  e2e:
    match: {client: e2e-agent}
    tools: {deny: [fx__add]}
limits:
  - {scope: tool, server: fx, tool: touch, rate: 1/m}
`)
			env := []string{"MCPGW_DB=" + db, "MCPGW_USER=", "MCPGW_TEAM=", "MCPGW_ROLES=", "MCPGW_PROFILE=", "MCPGW_MANAGED_POLICY="}
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			// A first run caches every server's catalog; the search tool's
			// description follows the servers as they start.
			first := startAgentEnv(t, cfg, version, env...)
			waitAllServers(t, ctx, first)
			first.cs.Close()
			first.cmd.Wait()

			// The second starts from that cache: instructions and search
			// are ready at once.
			a := startAgentEnv(t, cfg, version, env...)
			tools, err := a.cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			var names []string
			for _, tl := range tools.Tools {
				names = append(names, tl.Name)
			}
			want := []string{"mcpgw__search_tools", "mcpgw__describe_tool", "mcpgw__call_tool", "memory__read_graph"}
			if !slices.Equal(names, want) {
				t.Fatalf("tools/list in search mode = %v; want %v", names, want)
			}
			instr := a.cs.InitializeResult().Instructions
			wantAll(t, "instructions", instr, "mcpgw__search_tools", "mcpgw__call_tool", "- everything (", "- memory (", "- fs (", "- fx (")
			wantAll(t, "search tool description", tools.Tools[0].Description, "- everything (", "- fs (")

			// Search: ranked tools the session may use, never the denied one.
			res := call(t, ctx, a, "mcpgw__search_tools", map[string]any{"query": "read the contents of a text file", "limit": 5})
			var found struct {
				Tools []struct {
					Name, Server, Description string
					Score                     float64
				}
			}
			b, _ := json.Marshal(res.StructuredContent)
			if err := json.Unmarshal(b, &found); err != nil || len(found.Tools) == 0 {
				t.Fatalf("search result %s: %v", b, err)
			}
			if !slices.ContainsFunc(found.Tools[:min(3, len(found.Tools))], func(h struct {
				Name, Server, Description string
				Score                     float64
			}) bool {
				return h.Name == "fs__read_text_file" && h.Server == "fs" && h.Score > 0 && h.Description != ""
			}) {
				t.Errorf("search for reading a file: %s; want fs__read_text_file in the top 3", b)
			}
			res = call(t, ctx, a, "mcpgw__search_tools", map[string]any{"query": "add two numbers together", "limit": 50})
			if s := textOf(t, res); strings.Contains(s, `"fx__add"`) || res.IsError {
				t.Errorf("search returned the denied tool fx__add (or failed): %s", s)
			}

			// Describe: the whole definition; the denied tool refused as a call is.
			res = call(t, ctx, a, "mcpgw__describe_tool", map[string]any{"name": "fs__read_text_file"})
			def, _ := res.StructuredContent.(map[string]any)
			if res.IsError || def["name"] != "fs__read_text_file" || def["inputSchema"] == nil {
				t.Errorf("describe fs__read_text_file = %v %s", res.IsError, textOf(t, res))
			}
			direct := call(t, ctx, a, "fx__add", map[string]any{"a": 1, "b": 2})
			described := call(t, ctx, a, "mcpgw__describe_tool", map[string]any{"name": "fx__add"})
			if !direct.IsError || !described.IsError || textOf(t, described) != textOf(t, direct) {
				t.Errorf("describe of a denied tool = %q; want the direct call's refusal %q", textOf(t, described), textOf(t, direct))
			}

			// Calls: as direct calls.
			for _, tc := range []struct {
				name string
				args map[string]any
			}{
				{"fx__echo", map[string]any{"text": "via search"}},
				{"fx__cancelled_count", nil},
				{"fx__fail", nil},
				{"fx__add", map[string]any{"a": 1, "b": 2}},
				{"fx__nope", nil},
				{"everything__echo", map[string]any{"message": "hello"}},
			} {
				d, derr := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.name, Arguments: tc.args})
				m, merr := metaCall(ctx, a, tc.name, tc.args, nil)
				if derr != nil || merr != nil {
					t.Errorf("%s: direct err %v, through mcpgw__call_tool err %v", tc.name, derr, merr)
					continue
				}
				dj, _ := json.Marshal(d)
				mj, _ := json.Marshal(m)
				if string(dj) != string(mj) {
					t.Errorf("%s: through mcpgw__call_tool\n%s\nwant the direct call's\n%s", tc.name, mj, dj)
				}
			}
			if m, _ := metaCall(ctx, a, "fx__cancelled_count", nil, nil); m == nil || m.StructuredContent == nil {
				t.Errorf("structured content lost through mcpgw__call_tool: %+v", m)
			}
			if m, _ := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__call_tool", Arguments: map[string]any{"arguments": map[string]any{}}}); m == nil || !m.IsError || !strings.Contains(textOf(t, m), "name the tool") {
				t.Errorf("mcpgw__call_tool without a name: %+v", m)
			}

			// Progress, under the agent's own token.
			if m, err := metaCall(ctx, a, "fx__progress", map[string]any{"steps": 3}, mcp.Meta{"progressToken": "search-7"}); err != nil || textOf(t, m) != "done" {
				t.Fatalf("progress through mcpgw__call_tool: %v %v", m, err)
			}
			wantProgress := []string{"search-7:1/3", "search-7:2/3", "search-7:3/3"}
			waitFor(t, ctx, "three progress notifications", func() bool { return len(a.progressNotes()) >= 3 })
			if got := a.progressNotes(); !slices.Equal(got, wantProgress) {
				t.Errorf("progress relayed = %v; want %v", got, wantProgress)
			}

			// Cancellation reaches the server.
			cancelledBefore := func() float64 {
				m, err := metaCall(ctx, a, "fx__cancelled_count", nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				c, _ := m.StructuredContent.(map[string]any)
				n, _ := c["cancelled"].(float64)
				w, _ := c["waiting"].(float64)
				return n*1000 + w
			}
			cctx, ccancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { _, err := metaCall(cctx, a, "fx__wait", nil, nil); done <- err }()
			waitFor(t, ctx, "the wait call to reach the server", func() bool { return cancelledBefore() == 1 })
			ccancel()
			<-done
			waitFor(t, ctx, "the server's handler to be cancelled", func() bool { return cancelledBefore() == 1000 })

			// The rate limit is the direct call's: one bucket for both.
			touched := call(t, ctx, a, "fx__touch", map[string]any{"uri": "fixture://static/hello"})
			m, err := metaCall(ctx, a, "fx__touch", map[string]any{"uri": "fixture://static/hello"}, nil)
			if touched.IsError || err != nil || !m.IsError || !strings.Contains(textOf(t, m), "rate limit 1/m for tool touch of server fx reached (limits[0])") {
				t.Errorf("touch: direct %q, then through mcpgw__call_tool %v %q; want the second refused by limits[0]", textOf(t, touched), err, failureText(t, m, err))
			}
			d, _ := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__touch", Arguments: map[string]any{"uri": "fixture://static/hello"}})
			if before, _, _ := strings.Cut(textOf(t, d), "retry in"); !d.IsError || !strings.HasPrefix(textOf(t, m), before) {
				t.Errorf("limited: direct %q, through mcpgw__call_tool %q; want the same refusal", textOf(t, d), textOf(t, m))
			}

			// The guardrails are the direct call's: a token in the inner
			// call's arguments is blocked before it reaches the server.
			token := "ghp_" + strings.Repeat("a1B2c3D4e5", 4)[:36]
			m, err = metaCall(ctx, a, "fx__echo", map[string]any{"text": "use " + token}, nil)
			if err != nil || !m.IsError || !strings.Contains(textOf(t, m), "github-pat at $.arguments.text") || strings.Contains(textOf(t, m), token) {
				t.Errorf("a token through mcpgw__call_tool: %v %q; want it blocked by github-pat, naming the path, not the value", err, failureText(t, m, err))
			}

			a.cs.Close()
			a.cmd.Wait()
			var rows []string
			for _, c := range recordOf(t, db) {
				if c.Method != "tools/call" {
					continue
				}
				if strings.HasPrefix(c.Tool, "mcpgw__") {
					t.Errorf("record row names the gateway's tool %q; want the inner tool", c.Tool)
				}
				rows = append(rows, c.Tool+":"+string(c.Status))
			}
			for _, w := range []string{"fx__echo:ok", "fx__fail:tool_error", "fx__add:denied", "fx__wait:cancelled", "fx__touch:blocked", "fx__progress:ok", "fx__echo:blocked"} {
				if n := countOf(rows, w); n < 1 {
					t.Errorf("record has no %s row: %v", w, rows)
				}
			}
			if n := countOf(rows, "fx__add:denied"); n != 3 {
				t.Errorf("record has %d denied fx__add rows; want 3 (two direct, one through mcpgw__call_tool)", n)
			}
		})
	}
}

// waitAllServers waits until the search tool's description (which names
// the servers with tools) names the four reference servers.
func waitAllServers(t *testing.T, ctx context.Context, a *agent) {
	t.Helper()
	waitFor(t, ctx, "every server in the search tool's description", func() bool {
		tools, err := a.cs.ListTools(ctx, nil)
		if err != nil || len(tools.Tools) == 0 {
			return false
		}
		d := tools.Tools[0].Description
		return strings.Contains(d, "- everything (") && strings.Contains(d, "- memory (") && strings.Contains(d, "- fs (") && strings.Contains(d, "- fx (")
	})
}

// TestSearchQuerySet scores mcpgw__search_tools against the real catalog
// of the reference servers and the fixture: for each natural-language task
// in testdata/search/queries.json, the tool that serves it must be in the
// top 3 for at least 90% of the tasks.
func TestSearchQuerySet(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "search", "queries.json"))
	if err != nil {
		t.Fatal(err)
	}
	var queries []struct{ Task, Tool string }
	if err := json.Unmarshal(b, &queries); err != nil {
		t.Fatal(err)
	}
	if len(queries) < 30 {
		t.Fatalf("%d queries; the set needs at least 30", len(queries))
	}
	a := startAgentEnv(t, referenceConfig(t, "catalog: search\n"), "2025-11-25")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	waitAllServers(t, ctx, a)
	hits := 0
	for _, q := range queries {
		res := call(t, ctx, a, "mcpgw__search_tools", map[string]any{"query": q.Task, "limit": 3})
		var out struct{ Tools []struct{ Name string } }
		b, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(b, &out)
		var names []string
		for _, h := range out.Tools {
			names = append(names, h.Name)
		}
		if slices.Contains(names, q.Tool) {
			hits++
		} else {
			t.Logf("miss: %q wants %s; top 3: %v", q.Task, q.Tool, names)
		}
	}
	rate := float64(hits) / float64(len(queries))
	t.Logf("right tool in the top 3 for %d of %d tasks (%.0f%%)", hits, len(queries), 100*rate)
	if rate < 0.9 {
		t.Errorf("right tool in the top 3 for %.0f%% of the tasks; want at least 90%%", 100*rate)
	}
}

func countOf(rows []string, s string) int {
	n := 0
	for _, r := range rows {
		if r == s {
			n++
		}
	}
	return n
}

// searchNames is what mcpgw__search_tools finds for query (up to 50).
func searchNames(t *testing.T, ctx context.Context, cs *mcp.ClientSession, query string) []string {
	t.Helper()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__search_tools", Arguments: map[string]any{"query": query, "limit": 50}})
	if err != nil || res.IsError {
		t.Fatalf("search %q: %v %v", query, err, res)
	}
	var out struct{ Tools []struct{ Name string } }
	b, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(b, &out)
	var names []string
	for _, h := range out.Tools {
		names = append(names, h.Name)
	}
	return names
}

// TestSearchFollowsCatalog: the search index follows the live catalog. A
// tool a server adds (list_changed) is found; one it removes is not; a
// tool held by pinning (its description changed since it was pinned) is
// neither found nor described, and a call through mcpgw__call_tool is
// refused with the hold's hint, as a direct call.
func TestSearchFollowsCatalog(t *testing.T) {
	t.Parallel()
	fx := testenv.Fixture(t)
	dir := t.TempDir()
	env := []string{"MCPGW_DB=" + filepath.Join(dir, "record.db")}
	cfgPath := filepath.Join(dir, "config.yaml")
	writeAtomic(t, cfgPath, "catalog: search\n"+fixtureConfig(fx))
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	a := startServeEnv(t, cfgPath, "2025-11-25", env...)
	if names := searchNames(t, ctx, a.cs, "present only after toggle"); slices.Contains(names, "fx__extra") {
		t.Fatalf("fx__extra found before the server lists it: %v", names)
	}
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__call_tool", Arguments: map[string]any{"name": "fx__toggle"}})
	if err != nil || textOf(t, res) != "added" {
		t.Fatalf("toggle: %v %v", res, err)
	}
	waitFor(t, ctx, "fx__extra to be found", func() bool {
		return slices.Contains(searchNames(t, ctx, a.cs, "present only after toggle"), "fx__extra")
	})
	a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__call_tool", Arguments: map[string]any{"name": "fx__toggle"}})
	waitFor(t, ctx, "fx__extra to be gone", func() bool {
		return !slices.Contains(searchNames(t, ctx, a.cs, "present only after toggle"), "fx__extra")
	})
	if !slices.Contains(searchNames(t, ctx, a.cs, "return my text unchanged"), "fx__echo") {
		t.Fatal("fx__echo not found while pinned and unchanged")
	}
	a.cs.Close()
	a.cmd.Wait()

	// The server changes echo's description: held, so not found.
	writeAtomic(t, cfgPath, "catalog: search\n"+fixtureConfig(fx)+fmt.Sprintf("    env: {FIXTURE_DESCRIBE_ECHO: %q}\n", rugPull))
	b := startServeEnv(t, cfgPath, "2025-11-25", env...)
	waitFor(t, ctx, "fx__echo to be held", func() bool {
		names := searchNames(t, ctx, b.cs, "return my text argument unchanged")
		return !slices.Contains(names, "fx__echo") && slices.Contains(searchNames(t, ctx, b.cs, "add two numbers"), "fx__add")
	})
	const hint = "the definition of fx__echo changed since it was pinned; review with `mcpgw tools pins diff fx__echo`"
	res, err = b.cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__describe_tool", Arguments: map[string]any{"name": "fx__echo"}})
	wantAll(t, "describing a held tool", failureText(t, res, err), hint)
	res, err = b.cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__call_tool", Arguments: map[string]any{"name": "fx__echo", "arguments": map[string]any{"text": "hi"}}})
	wantAll(t, "calling a held tool through mcpgw__call_tool", failureText(t, res, err), hint)

	// Without a limit, 8 results.
	res, err = b.cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__search_tools", Arguments: map[string]any{"query": "returns"}})
	if n := strings.Count(textOf(t, res), `"name":`); err != nil || n != 8 {
		t.Errorf("search without a limit: %d results (%v); want 8", n, err)
	}

	// The mode follows the configuration: full, then search again for
	// this agent's profile only.
	listed := func() []string {
		tools, err := b.cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tl := range tools.Tools {
			names = append(names, tl.Name)
		}
		return names
	}
	base := fixtureConfig(fx) + fmt.Sprintf("    env: {FIXTURE_DESCRIBE_ECHO: %q}\n", rugPull)
	for len(b.changed) > 0 {
		<-b.changed
	}
	writeAtomic(t, cfgPath, "catalog: full\n"+base)
	select {
	case <-b.changed:
	case <-ctx.Done():
		t.Fatal("no list_changed after catalog: changed")
	}
	waitFor(t, ctx, "full mode after the edit", func() bool {
		names := listed()
		return slices.Contains(names, "fx__add") && !slices.Contains(names, "mcpgw__search_tools")
	})
	writeAtomic(t, cfgPath, "catalog: full\nprofiles:\n  r: {match: {client: reload-agent}, catalog: {mode: search, always: [\"fx__ad*\"]}}\n"+base)
	waitFor(t, ctx, "the profile's search mode after the edit", func() bool {
		return slices.Equal(listed(), []string{"mcpgw__search_tools", "mcpgw__describe_tool", "mcpgw__call_tool", "fx__add"})
	})
}

// TestSearchModeFronts calls through mcpgw__call_tool on every way a call
// enters the gateway: stdio with the fast path off (the SDK path's
// rewrite), and the HTTP front at both protocol versions. Each gets the
// inner tool's content, structured content, errors and progress.
func TestSearchModeFronts(t *testing.T) {
	cfg := writeConfig(t, "catalog: search\n"+fixtureConfig(testenv.Fixture(t)))
	for _, tc := range []struct{ front, version string }{{"stdio-sdk", "2025-11-25"}, {"stdio-sdk", "2026-07-28"}, {"http", "2025-11-25"}, {"http", "2026-07-28"}} {
		t.Run(tc.front+"-"+tc.version, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var tr mcp.Transport
			if tc.front == "http" {
				tr = &mcp.StreamableClientTransport{Endpoint: serveHTTP(t, ctx, cfg) + "mcp"}
			} else {
				cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfg)
				cmd.Env = append(os.Environ(), ownRecord(t, []string{"MCPGW_NO_FASTPATH=1"})...)
				cmd.Stderr = &testWriter{t: t}
				tr = &mcp.CommandTransport{Command: cmd}
			}
			var mu sync.Mutex
			var progress []string
			client := mcp.NewClient(&mcp.Implementation{Name: "fronts-agent", Version: "1"}, &mcp.ClientOptions{
				ProgressNotificationHandler: func(ctx context.Context, req *mcp.ProgressNotificationClientRequest) {
					mu.Lock()
					progress = append(progress, fmt.Sprintf("%v:%v", req.Params.ProgressToken, req.Params.Progress))
					mu.Unlock()
				},
			})
			cs, err := client.Connect(ctx, tr, &mcp.ClientSessionOptions{ProtocolVersion: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			a := &agent{cs: cs}
			tools, err := cs.ListTools(ctx, nil)
			if err != nil || len(tools.Tools) != 3 {
				t.Fatalf("tools/list: %v %v; want the three gateway tools", tools, err)
			}
			if m, err := metaCall(ctx, a, "fx__echo", map[string]any{"text": "through"}, nil); err != nil || textOf(t, m) != "through" {
				t.Errorf("echo: %v %v", m, err)
			}
			if m, err := metaCall(ctx, a, "fx__cancelled_count", nil, nil); err != nil || m.StructuredContent == nil {
				t.Errorf("structured content: %v %v", m, err)
			}
			if m, err := metaCall(ctx, a, "fx__fail", nil, nil); err != nil || !m.IsError || textOf(t, m) != "fixture failure" {
				t.Errorf("fail: %v %v", m, err)
			}
			if m, err := metaCall(ctx, a, "fx__progress", map[string]any{"steps": 2}, mcp.Meta{"progressToken": "p"}); err != nil || textOf(t, m) != "done" {
				t.Fatalf("progress: %v %v", m, err)
			}
			waitFor(t, ctx, "two progress notifications", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return slices.Equal(progress, []string{"p:1", "p:2"})
			})
			if hits := searchNames(t, ctx, cs, "echo my text back"); len(hits) == 0 || hits[0] != "fx__echo" {
				t.Errorf("search: %v; want fx__echo first", hits)
			}
		})
	}
}

// TestSearchModeStages runs the call path's test stages (see
// stages_test.go) in search mode: a call through mcpgw__call_tool is held
// for approval, refused, and has its result rewritten exactly as the direct
// call is, and a tool a stage hides is never found nor described.
func TestSearchModeStages(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range agentVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "record.db")
			cmd := exec.Command(self, "serve", "--config", writeConfig(t, "catalog: search\n"+fixtureConfig(testenv.Fixture(t))))
			cmd.Env = append(os.Environ(), stagesEnv+"=approve,deny,redact", "MCPGW_DB="+db, "MCPGW_USER=ana@example.com", "MCPGW_PROFILE=")
			cmd.Stderr = &testWriter{t: t}
			a := connectAgent(t, cmd, version)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			for _, tc := range []struct {
				name string
				args map[string]any
			}{
				{"fx__echo", map[string]any{"text": "needs approval"}}, // held: approved at 2025-11-25, refused at 2026-07-28
				{"fx__add", map[string]any{"a": 1, "b": 2}},            // refused
				{"fx__echo", map[string]any{"text": "classified"}},     // rewritten
				{"fx__toggle", nil}, // hidden
			} {
				d, derr := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.name, Arguments: tc.args})
				m, merr := metaCall(ctx, a, tc.name, tc.args, nil)
				// A result mcpgw makes carries its serverInfo in _meta at
				// 2026-07-28 on the SDK path, not on the fast path, and
				// which path a call takes depends on whether the servers
				// have settled: compared without it.
				for _, r := range []*mcp.CallToolResult{d, m} {
					if r != nil {
						r.Meta = nil
					}
				}
				dj, _ := json.Marshal(d)
				mj, _ := json.Marshal(m)
				if derr != nil || merr != nil || string(dj) != string(mj) {
					t.Errorf("%s %v: through mcpgw__call_tool %s (%v); want the direct call's %s (%v)", tc.name, tc.args, mj, merr, dj, derr)
				}
			}
			if names := searchNames(t, ctx, a.cs, "adds the tool extra if absent, removes it if present"); slices.Contains(names, "fx__toggle") {
				t.Errorf("search found the hidden fx__toggle: %v", names)
			}
			d, _ := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__toggle"})
			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__describe_tool", Arguments: map[string]any{"name": "fx__toggle"}})
			if err != nil || !res.IsError || textOf(t, res) != textOf(t, d) {
				t.Errorf("describe of a hidden tool: %v %v; want the direct call's refusal %q", res, err, textOf(t, d))
			}
			a.stop()
			approvals := 0
			for _, c := range recordOf(t, db) {
				if c.Rule == "test.approve" {
					approvals++
					if c.Tool != "fx__echo" {
						t.Errorf("the held call's row names %q; want fx__echo", c.Tool)
					}
				}
			}
			if approvals != 2 {
				t.Errorf("%d rows with the approval rule; want 2 (direct, and through mcpgw__call_tool)", approvals)
			}
		})
	}
}

// TestSearchFromCache: the search index is ready from the catalog cache.
// The fixture is served once (its catalog cached), then started again in a
// mode where it never answers initialize: search still finds its tools and
// describes them, from the cache, and the instructions name it.
func TestSearchFromCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	modeFile := filepath.Join(dir, "modes")
	env := []string{"MCPGW_DB=" + filepath.Join(dir, "record.db")}
	cfg := fmt.Sprintf("catalog: search\nservers:\n  fx:\n    command: %q\n    args: [-mode-file, %q]\n", testenv.Fixture(t), modeFile)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	a := startAgentEnv(t, cfg, "2025-11-25", env...)
	if names := searchNames(t, ctx, a.cs, "return my text unchanged"); len(names) == 0 || names[0] != "fx__echo" {
		t.Fatalf("first run: search = %v", names)
	}
	a.cs.Close()
	a.cmd.Wait()

	if err := os.WriteFile(modeFile, []byte("hang-init"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startAgentEnv(t, cfg, "2025-11-25", env...)
	wantAll(t, "instructions from the cache", b.cs.InitializeResult().Instructions, "- fx (", "mcpgw__search_tools")
	if names := searchNames(t, ctx, b.cs, "return my text unchanged"); len(names) == 0 || names[0] != "fx__echo" {
		t.Errorf("search with the server not answering: %v; want fx__echo from the cache", names)
	}
	res, err := b.cs.CallTool(ctx, &mcp.CallToolParams{Name: "mcpgw__describe_tool", Arguments: map[string]any{"name": "fx__echo"}})
	if err != nil || res.IsError || !strings.Contains(textOf(t, res), "Returns its text argument unchanged.") {
		t.Errorf("describe from the cache: %v %v", res, err)
	}
}
