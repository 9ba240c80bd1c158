package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/catalog"
)

// fixtureConfig writes a configuration of Go fixture servers (name → YAML
// lines under it besides command) and returns its path.
func fixtureConfig(t *testing.T, servers ...string) string {
	t.Helper()
	fixture := testenv.Fixture(t)
	var b strings.Builder
	b.WriteString("servers:\n")
	for i := 0; i+1 < len(servers); i += 2 {
		fmt.Fprintf(&b, "  %s:\n    command: %q\n", servers[i], fixture)
		if servers[i+1] != "" {
			fmt.Fprintf(&b, "    %s\n", servers[i+1])
		}
	}
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func toolsView(t *testing.T, cfg string, extra ...string) *mux.CatalogView {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"--config", cfg, "tools", "-o", "json", "--timeout", "60s"}, extra...)...)
	if code != ExitOK {
		t.Fatalf("tools: exit %d; stderr:\n%s", code, errOut)
	}
	var v mux.CatalogView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("tools -o json printed invalid JSON: %v\n%s", err, out)
	}
	return &v
}

func findTool(v *mux.CatalogView, name string) *catalog.ExposedTool {
	for i := range v.Tools {
		if v.Tools[i].Tool != nil && v.Tools[i].Tool.Name == name {
			return &v.Tools[i]
		}
	}
	return nil
}

func TestToolsAndCallWithFixture(t *testing.T) {
	cfg := fixtureConfig(t, "fx", "")

	t.Run("tools", func(t *testing.T) {
		v := toolsView(t, cfg)
		echo := findTool(v, "fx__echo")
		if echo == nil {
			t.Fatalf("tools -o json lacks fx__echo: %+v", v.Tools)
		}
		if echo.Server != "fx" || echo.Original != "echo" {
			t.Errorf("fx__echo: server %q original %q, want fx, echo", echo.Server, echo.Original)
		}
		if len(v.Servers) != 1 || v.Servers[0].Name != "fx" || v.Servers[0].State != mux.StateReady {
			t.Errorf("servers = %+v, want fx ready", v.Servers)
		}
		if len(v.Collisions) != 0 {
			t.Errorf("collisions = %+v, want none", v.Collisions)
		}
		// --server filters; an unknown one is a usage error.
		if f := toolsView(t, cfg, "--server", "fx"); findTool(f, "fx__echo") == nil {
			t.Error("tools --server fx lacks fx__echo")
		}
		code, _, errOut := runCLI(t, "--config", cfg, "tools", "--server", "nope")
		if code != ExitUsage || !strings.Contains(errOut, "fx") {
			t.Errorf("tools --server nope: exit %d, stderr:\n%s", code, errOut)
		}
	})

	t.Run("call add", func(t *testing.T) {
		code, out, errOut := runCLI(t, "--config", cfg, "call", "fx__add", "--arg", "a=2", "--arg", "b=3")
		if code != ExitOK {
			t.Fatalf("call fx__add: exit %d; stderr:\n%s", code, errOut)
		}
		var res struct {
			IsError           bool `json:"isError"`
			StructuredContent struct {
				Sum *float64 `json:"sum"`
			} `json:"structuredContent"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("call printed invalid JSON: %v\n%s", err, out)
		}
		if res.StructuredContent.Sum == nil || *res.StructuredContent.Sum != 5 || res.IsError {
			t.Errorf("call fx__add a=2 b=3 printed %s, want structuredContent.sum 5", out)
		}
	})

	t.Run("call echo text output", func(t *testing.T) {
		code, out, errOut := runCLI(t, "--config", cfg, "call", "fx__echo", "--arg", "text=hello there", "-o", "table")
		if code != ExitOK || strings.TrimSpace(out) != "hello there" {
			t.Errorf("call fx__echo -o table: exit %d, out %q; stderr:\n%s", code, out, errOut)
		}
	})

	t.Run("call fail", func(t *testing.T) {
		code, out, errOut := runCLI(t, "--config", cfg, "call", "fx__fail")
		if code != ExitToolError {
			t.Fatalf("call fx__fail: exit %d, want %d (ExitToolError); stderr:\n%s", code, ExitToolError, errOut)
		}
		if !strings.Contains(out, `"isError": true`) || !strings.Contains(out, "fixture failure") {
			t.Errorf("call fx__fail printed %s, want the isError result", out)
		}
	})

	t.Run("call unknown tool", func(t *testing.T) {
		code, out, errOut := runCLI(t, "--config", cfg, "call", "nope")
		if code != ExitUsage {
			t.Fatalf("call nope: exit %d, want %d; stderr:\n%s", code, ExitUsage, errOut)
		}
		if !strings.Contains(errOut, `no tool "nope"`) || !strings.Contains(errOut, "mcpgw tools") {
			t.Errorf("call nope: unhelpful message:\n%s", errOut)
		}
		if out != "" {
			t.Errorf("call nope printed to stdout: %q", out)
		}
		// A near miss is suggested.
		_, _, errOut = runCLI(t, "--config", cfg, "call", "echo")
		if !strings.Contains(errOut, "fx__echo") {
			t.Errorf("call echo does not suggest fx__echo:\n%s", errOut)
		}
	})

	t.Run("no servers left running", func(t *testing.T) {
		if _, err := os.Stat("/proc/self/stat"); err != nil {
			t.Skip("needs /proc")
		}
		fixture := testenv.Fixture(t)
		deadline := time.Now().Add(10 * time.Second)
		for {
			left := childrenRunning(fixture)
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("fixture servers started by tools/call still run after Run returned: pids %v", left)
			}
			time.Sleep(25 * time.Millisecond) // polling /proc; there is no event to wait on
		}
	})

	t.Run("call bad argument", func(t *testing.T) {
		code, _, errOut := runCLI(t, "--config", cfg, "call", "fx__add", "--arg", "a=two")
		if code != ExitUsage || !strings.Contains(errOut, `"a" must be a number`) {
			t.Errorf("call fx__add a=two: exit %d, stderr:\n%s", code, errOut)
		}
	})
}

func TestToolsShowsCollisions(t *testing.T) {
	cfg := fixtureConfig(t, "one", `prefix: ""`, "two", `prefix: ""`)
	v := toolsView(t, cfg)
	echo := findTool(v, "echo")
	if echo == nil || echo.Server != "one" {
		t.Fatalf("unprefixed echo should be kept by the first server: %+v", echo)
	}
	i := slices.IndexFunc(v.Collisions, func(c catalog.Collision) bool {
		return c.Kind == "tool" && c.Name == "echo"
	})
	if i < 0 {
		t.Fatalf("tools -o json shows no collision for echo: %+v", v.Collisions)
	}
	if c := v.Collisions[i]; c.Kept != "one" || c.Hidden != "two" {
		t.Errorf("collision %+v, want kept one, hidden two", c)
	}
	for _, s := range v.Servers {
		if s.State != mux.StateReady {
			t.Errorf("server %s is %s (%s); a collision must not stop it", s.Name, s.State, s.Error)
		}
	}
	// The table names the collisions too.
	code, out, errOut := runCLI(t, "--config", cfg, "tools", "-o", "table", "--timeout", "60s")
	if code != ExitOK || !strings.Contains(out, "collision") {
		t.Errorf("tools -o table: exit %d, out:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// The table says it once; no warning repeats it (nor on each call).
	for _, args := range [][]string{{"tools", "-o", "table"}, {"call", "echo", "--arg", "text=x"}} {
		if _, _, errOut := runCLI(t, append([]string{"--config", cfg}, args...)...); strings.Contains(errOut, "collision") {
			t.Errorf("%v warned about the collision on stderr:\n%s", args, errOut)
		}
	}
}

// childrenRunning returns the pids of this process's live children running
// exe (read from /proc).
func childrenRunning(exe string) []int {
	self := strconv.Itoa(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat)[i+1:])
		if len(f) < 2 || f[0] == "Z" || f[1] != self {
			continue
		}
		if target, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); target == exe {
			out = append(out, pid)
		}
	}
	return out
}

// TestCallStartsOnlyWhatItNeeds configures a good server beside one that
// hangs, one whose command does not exist, and one that leaves a mark when
// started: `call fx__echo` and `tools --server fx` start fx alone, do not
// wait for the others, and say nothing about them.
func TestCallStartsOnlyWhatItNeeds(t *testing.T) {
	fixture := testenv.Fixture(t)
	dir := t.TempDir()
	mark := filepath.Join(dir, "started")
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`servers:
  fx:
    command: %[1]q
  hang:
    command: %[1]q
    args: [-mode, hang-init]
    timeouts: {connect: 30s}
  bad:
    command: mcpgw-no-such-command-anywhere
  marked:
    command: sh
    args: [-c, 'touch %[2]s; exec %[1]s']
`, fixture, mark)), 0o600)
	for _, args := range [][]string{
		{"call", "fx__echo", "--arg", "text=hi"},
		{"tools", "--server", "fx"},
	} {
		start := time.Now()
		code, out, errOut := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d; stderr:\n%s", args, code, errOut)
		}
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("%v took %v: it waited for a server it does not need", args, took)
		}
		if errOut != "" {
			t.Errorf("%v printed on stderr about servers it does not need:\n%s", args, errOut)
		}
		if !strings.Contains(out, "fx__echo") && !strings.Contains(out, `"hi"`) {
			t.Errorf("%v printed %s", args, out)
		}
	}
	if _, err := os.Stat(mark); err == nil {
		t.Error("a server neither command needs was started")
	}
}

// TestCallTimeoutSaysWhatCutIt calls a tool that runs longer than --timeout
// (it reports progress all along): the answer, the exit and the record name
// --timeout and its value, not the server's call timeout.
func TestCallTimeoutSaysWhatCutIt(t *testing.T) {
	cfg := fixtureConfig(t, "fx", "")
	db := filepath.Join(t.TempDir(), "record.db")
	t.Setenv("MCPGW_DB", db)
	code, out, errOut := runCLI(t, "--config", cfg, "call", "fx__progress", "--arg", "steps=100", "--arg", "delay_ms=100", "--timeout", "1500ms")
	if code != ExitError {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitError, errOut)
	}
	for what, text := range map[string]string{"the result": out, "stderr": errOut} {
		if !strings.Contains(text, "--timeout 1.5s") || strings.Contains(text, "2m0s") {
			t.Errorf("%s does not say --timeout 1.5s cut the call:\n%s", what, text)
		}
	}
	_, logsOut, logsErr := runCLI(t, "logs", "--db", db, "-o", "json")
	var calls []struct{ Status, Error string }
	if err := json.Unmarshal([]byte(logsOut), &calls); err != nil || len(calls) != 1 {
		t.Fatalf("logs -o json: %v %s %s", err, logsOut, logsErr)
	}
	if c := calls[0]; c.Status != "timeout" || !strings.Contains(c.Error, "--timeout 1.5s") || strings.Contains(c.Error, "2m0s") {
		t.Errorf("recorded %+v; want a timeout naming --timeout 1.5s", c)
	}
}

// TestLogsShowToolErrors records a call whose tool returns isError: logs
// shows the tool's text as the error in the table and in JSON.
func TestLogsShowToolErrors(t *testing.T) {
	cfg := fixtureConfig(t, "fx", "")
	db := filepath.Join(t.TempDir(), "record.db")
	t.Setenv("MCPGW_DB", db)
	if code, _, errOut := runCLI(t, "--config", cfg, "call", "fx__fail"); code != ExitToolError {
		t.Fatalf("call fx__fail: exit %d; stderr:\n%s", code, errOut)
	}
	_, out, _ := runCLI(t, "logs", "--db", db, "-o", "json")
	var calls []struct{ Status, Error string }
	if err := json.Unmarshal([]byte(out), &calls); err != nil || len(calls) != 1 {
		t.Fatalf("logs -o json: %v %s", err, out)
	}
	if c := calls[0]; c.Status != "tool_error" || !strings.Contains(c.Error, "fixture failure") {
		t.Errorf("logs -o json: %+v; want the tool's text as the error", c)
	}
	if _, table, _ := runCLI(t, "logs", "--db", db, "-o", "table"); !strings.Contains(table, "fixture failure") {
		t.Errorf("logs -o table has no ERROR text:\n%s", table)
	}
}
