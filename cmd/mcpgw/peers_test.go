package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestServeReferenceServers fronts the npm reference servers and the Go
// fixture at once, with the agent at each protocol version.
func TestServeReferenceServers(t *testing.T) {
	everything := testenv.NpmBin(t, "mcp-server-everything")
	memory := testenv.NpmBin(t, "mcp-server-memory")
	filesystem := testenv.NpmBin(t, "mcp-server-filesystem")
	fixture := testenv.Fixture(t)
	for _, v := range agentVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if err := os.WriteFile(filepath.Join(root, "note.txt"), []byte("from the filesystem server"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := fmt.Sprintf(`servers:
  everything:
    command: %q
    args: ["stdio"]
  memory:
    command: %q
    env: {MEMORY_FILE_PATH: %q}
  fs:
    command: %q
    args: [%q]
  fx:
    command: %q
`, everything, memory, filepath.Join(t.TempDir(), "memory.jsonl"), filesystem, root, fixture)
			a := startAgent(t, cfg, v)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			tools, err := a.cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			perServer := map[string]int{}
			for _, tl := range tools.Tools {
				server, _, _ := strings.Cut(tl.Name, "__")
				perServer[server]++
			}
			for _, s := range []string{"everything", "memory", "fs", "fx"} {
				if perServer[s] == 0 {
					t.Errorf("no tools from %s in the merged list: %v", s, perServer)
				}
			}
			if got := textOf(t, call(t, ctx, a, "everything__echo", map[string]any{"message": "via mcpgw"})); !strings.Contains(got, "via mcpgw") {
				t.Errorf("everything echo = %q", got)
			}
			if got := textOf(t, call(t, ctx, a, "fs__read_text_file", map[string]any{"path": filepath.Join(root, "note.txt")})); !strings.Contains(got, "from the filesystem server") {
				t.Errorf("fs read = %q", got)
			}
			call(t, ctx, a, "memory__create_entities", map[string]any{"entities": []any{map[string]any{"name": "mcpgw", "entityType": "gateway", "observations": []string{"fronts servers"}}}})
			if got := textOf(t, call(t, ctx, a, "memory__read_graph", nil)); !strings.Contains(got, "fronts servers") {
				t.Errorf("memory graph = %q", got)
			}
			if got := textOf(t, call(t, ctx, a, "fx__echo", map[string]any{"text": "fixture"})); got != "fixture" {
				t.Errorf("fixture echo = %q", got)
			}
			res, err := a.cs.ListResources(ctx, nil)
			if err != nil || len(res.Resources) == 0 {
				t.Fatalf("resources/list: %v (%d)", err, len(res.Resources))
			}
			rr, err := a.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: res.Resources[0].URI})
			if err != nil || len(rr.Contents) == 0 {
				t.Errorf("read %s: %v", res.Resources[0].URI, err)
			}
			prompts, err := a.cs.ListPrompts(ctx, nil)
			if err != nil || !slices.ContainsFunc(prompts.Prompts, func(p *mcp.Prompt) bool { return strings.HasPrefix(p.Name, "everything__") }) {
				t.Errorf("prompts/list: %v", err)
			}
		})
	}
}

// TestInspectorCLI lists tools and calls one through mcpgw with the MCP
// inspector's CLI mode.
func TestInspectorCLI(t *testing.T) {
	t.Parallel()
	inspector := testenv.NpmBin(t, "mcp-inspector")
	bin := testenv.Mcpgw(t)
	fixture := testenv.Fixture(t)
	cfgPath := writeConfig(t, fixtureConfig(fixture))
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// The inspector has a --config flag of its own: pass mcpgw's by env.
		cmd := exec.CommandContext(ctx, inspector, append([]string{"--cli", "-e", "MCPGW_CONFIG=" + cfgPath, bin, "serve"}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("inspector %v: %v\n%s\n%s", args, err, out, stderr)
		}
		return string(out)
	}
	list := run("--method", "tools/list")
	if !strings.Contains(list, `"fx__echo"`) {
		t.Fatalf("inspector tools/list lacks fx__echo:\n%s", list)
	}
	res := run("--method", "tools/call", "--tool-name", "fx__echo", "--tool-arg", "text=from the inspector")
	if !strings.Contains(res, "from the inspector") {
		t.Fatalf("inspector tools/call:\n%s", res)
	}
}

// TestConformance runs the MCP conformance suite against go-sdk's fixture
// server twice in one run: served directly (stateful HTTP) and behind
// `mcpgw serve --http` over stdio with no prefix. mcpgw must pass every check
// the fixture passes directly.
func TestConformance(t *testing.T) {
	t.Parallel()
	conformance := testenv.NpmBin(t, "conformance")
	server := testenv.ConformanceServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	addr := freeAddr(t)
	direct := exec.CommandContext(ctx, server, "-http", addr, "-stateless=false")
	direct.Stderr = &testWriter{t: t}
	if err := direct.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Process.Kill(); direct.Wait() })
	waitListening(t, ctx, addr)
	want := runConformance(t, ctx, conformance, "http://"+addr+"/mcp")

	url := serveHTTP(t, ctx, writeConfig(t, fmt.Sprintf("servers:\n  conf:\n    command: %q\n    prefix: \"\"\n", server)))
	got := runConformance(t, ctx, conformance, url+"mcp")

	var missing []string
	for check := range want {
		if !got[check] {
			missing = append(missing, check)
		}
	}
	slices.Sort(missing)
	t.Logf("conformance: %d checks pass directly, %d through mcpgw", len(want), len(got))
	if len(missing) > 0 {
		t.Errorf("checks that pass directly but fail through mcpgw: %v", missing)
	}
	if len(want) < 40 {
		t.Errorf("only %d checks passed directly; the suite did not run properly", len(want))
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t *testing.T, ctx context.Context, addr string) {
	waitFor(t, ctx, addr+" to listen", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// readServingURL reads a server's stderr until it says where it serves
// (mcpgw: "serving MCP at URL"; the fixture: "listening on URL"), then
// drains the rest.
func readServingURL(t testing.TB, r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		t.Logf("%s", line)
		for _, marker := range []string{"serving MCP at ", "listening on "} {
			if _, url, ok := strings.Cut(line, marker); ok {
				go io.Copy(io.Discard, r)
				return strings.TrimSpace(url)
			}
		}
	}
	t.Fatal("the server exited without saying where it serves")
	return ""
}

// runConformance runs the suite against url and returns the checks that
// passed, as "scenario/check".
func runConformance(t *testing.T, ctx context.Context, bin, url string) map[string]bool {
	out := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "server", "--url", url, "-o", out)
	b, _ := cmd.CombinedOutput() // non-zero when any check fails; judged below
	t.Logf("conformance against %s:\n%s", url, lastLines(string(b), 6))
	passed := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(out, "*", "checks.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var checks []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal(data, &checks); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		scenario := timestamp.ReplaceAllString(filepath.Base(filepath.Dir(f)), "")
		for _, c := range checks {
			if c.Status == "SUCCESS" {
				passed[scenario+"/"+c.ID] = true
			}
		}
	}
	return passed
}

// timestamp is the run time the suite appends to each scenario's directory.
var timestamp = regexp.MustCompile(`-\d{4}-\d{2}-\d{2}T[\d-]+Z$`)

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
