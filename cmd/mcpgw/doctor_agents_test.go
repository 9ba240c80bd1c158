package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestDoctorAgents: doctor reports an agent that does not use mcpgw, one
// that runs it, servers left beside mcpgw in an agent's file (a warning
// with the command that fixes it), and an entry whose mcpgw binary is gone
// (a failure with the configuration's exit code).
func TestDoctorAgents(t *testing.T) {
	t.Parallel()
	fx := testenv.Fixture(t)
	sb := newClientSandbox(t)
	path := sb.row(t, "claude-code", "user").Path
	sb.write(t, path, fmt.Appendf(nil, `{"numStartups": 1, "mcpServers": {"fx": {"type": "stdio", "command": %s}}}`, jsonString(fx)))

	agent := func(wantCode int) doctorLine {
		t.Helper()
		out, errOut, code := sb.run(t, "doctor", "--no-start", "-o", "json")
		var r struct{ Checks []doctorLine }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("doctor -o json: %v\n%s\n%s", err, out, errOut)
		}
		if wantCode >= 0 && code != wantCode {
			t.Errorf("doctor exit %d; want %d\n%s", code, wantCode, out)
		}
		var found *doctorLine
		for i, c := range r.Checks {
			if strings.HasPrefix(c.Check, "agent ") && c.Check != "agent claude-code (user)" {
				t.Errorf("doctor reports %s, whose file does not exist", c.Check)
			}
			if c.Check == "agent claude-code (user)" {
				found = &r.Checks[i]
			}
		}
		if found == nil {
			t.Fatalf("doctor has no line for claude-code's file: %+v", r.Checks)
		}
		return *found
	}

	c := agent(-1)
	if c.Status != "ok" || !strings.Contains(c.Detail, "does not use mcpgw") || !strings.Contains(c.Detail, "fx") || !strings.Contains(c.Detail, "mcpgw client install claude-code") {
		t.Errorf("before install: %+v; want ok, naming the server run directly and the install command", c)
	}

	sb.must(t, "client", "install", "claude-code")
	if c = agent(-1); c.Status != "ok" || !strings.Contains(c.Detail, "runs mcpgw (profile claude-code)") {
		t.Errorf("after install: %+v; want ok, running mcpgw with profile claude-code", c)
	}

	var file map[string]any
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	servers := file["mcpServers"].(map[string]any)
	servers["direct"] = map[string]any{"type": "stdio", "command": fx}
	sb.write(t, path, must(json.Marshal(file)))
	if c = agent(-1); c.Status != "warn" || !strings.Contains(c.Detail, "beside it") || !strings.Contains(c.Detail, "direct") ||
		!strings.Contains(c.Detail, "edited since mcpgw wrote it") || !strings.Contains(c.Fix, "mcpgw client install claude-code --scope user") {
		t.Errorf("a server added beside mcpgw: %+v; want a warning naming it, with the install command as the fix", c)
	}

	delete(servers, "direct")
	servers["mcpgw"].(map[string]any)["command"] = "/nonexistent/bin/mcpgw"
	sb.write(t, path, must(json.Marshal(file)))
	if c = agent(3); c.Status != "fail" || !strings.Contains(c.Detail, "/nonexistent/bin/mcpgw is not there") {
		t.Errorf("mcpgw binary gone: %+v; want a failure naming the missing binary", c)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
