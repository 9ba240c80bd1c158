package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/logs"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// The fixed clock and zone of the logs tests: "today" is 2025-11-26 in a
// zone one hour east of UTC.
var (
	logsNow = time.Date(2025, 11, 26, 13, 0, 0, 0, time.UTC)
	logsLoc = time.FixedZone("CET", 3600)
)

// logsFixture is one call of every status, over several servers, tools,
// users, teams and agents and three days; IDs are 1..10 in this order.
func logsFixture() []logs.Call {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	return []logs.Call{
		{Time: at("2025-11-24T09:00:00Z"), PID: 4242, Session: "s1", Agent: "claude-code", AgentVersion: "2.1", User: "ana@example.com", Team: "data", Roles: []string{"dev", "oncall"},
			Method: "tools/call", Server: "fx", Tool: "fx__echo", ToolOriginal: "echo", Args: `{"text":"hello"}`, ArgsSize: 16, ArgsHash: "5d41",
			Result: `{"content":[{"type":"text","text":"hello"}]}`, ResultSize: 44, ResultHash: "9f2c", Status: logs.StatusOK, Latency: 1200 * time.Microsecond,
			BytesIn: 120, BytesOut: 340, Decision: "allow", Reason: "default allow"},
		{Time: at("2025-11-24T09:05:00Z"), PID: 4243, Agent: "cursor", User: "bob@example.com", Team: "web", Method: "tools/call", Server: "fx", Tool: "fx__add", ToolOriginal: "add",
			Args: `{"a":1,"b":0}`, ArgsSize: 13, Status: logs.StatusToolError, Error: "Division by zero", Latency: 2500 * time.Microsecond, BytesIn: 98, BytesOut: 150, Decision: "allow"},
		{Time: at("2025-11-24T09:10:00Z"), PID: 4243, Agent: "cursor", User: "bob@example.com", Team: "web", Method: "tools/call", Server: "github", Tool: "github__create_issue",
			Status: logs.StatusDenied, Latency: 40 * time.Microsecond, BytesIn: 210, BytesOut: 96, Decision: "deny", Rule: "teams.web.servers.github", Profile: "cursor", Reason: "team web may not call github__create_issue"},
		{Time: at("2025-11-24T09:15:00Z"), PID: 4242, Agent: "claude-code", User: "ana@example.com", Team: "data", Method: "tools/call", Server: "github", Tool: "github__search",
			ArgsSize: 64, Status: logs.StatusBlocked, Latency: 85 * time.Microsecond, BytesIn: 180, BytesOut: 90, Decision: "block", Rule: "secrets", Reason: "secret in arguments (github-pat)",
			Findings: []logs.Finding{{Rule: "github-pat", Path: "$.arguments.q"}}},
		{Time: at("2025-11-24T10:00:00Z"), PID: 4242, Agent: "vscode", User: "ana@example.com", Team: "data", Method: "tools/call", Server: "memory", Tool: "memory__read_graph",
			Status: logs.StatusTimeout, Error: "timed out after 30s", Latency: 30 * time.Second, BytesIn: 60, BytesOut: 80},
		{Time: at("2025-11-24T11:00:00Z"), PID: 4244, Agent: "claude-code", User: "carl@example.com", Team: "ops", Method: "tools/call", Server: "memory", Tool: "memory__store",
			Status: logs.StatusCancelled, Error: "cancelled by the client", Latency: 512 * time.Millisecond, BytesIn: 300, BytesOut: 0},
		{Time: at("2025-11-25T08:00:00Z"), PID: 4245, Agent: "codex", User: "carl@example.com", Team: "ops", Method: "tools/call", Server: "search", Tool: "search__web",
			Status: logs.StatusUnavailable, Error: `server search is not running: exec: "search-mcp": executable file not found in $PATH; run mcpgw tools to see its last stderr lines`},
		{Time: at("2025-11-25T16:30:00Z"), PID: 4242, Agent: "claude-code", User: "ana@example.com", Team: "data", Method: "tools/call", Server: "fx", Tool: "fx__echo",
			Status: logs.StatusError, Error: "invalid params:\n\tmissing \x1b[31mtext\x1b[0m", Latency: 5 * time.Millisecond, BytesIn: 70, BytesOut: 110},
		{Time: at("2025-11-26T12:30:00Z"), PID: 4242, Agent: "claude-code", User: "ana@example.com", Team: "data", Method: "tools/call", Server: "fx", Tool: "fx__echo",
			Args: `{"text":"a NEEDLE in a haystack"}`, ArgsSize: 33, Status: logs.StatusOK, Latency: 3400 * time.Microsecond, BytesIn: 140, BytesOut: 2048},
		{Time: at("2025-11-26T12:45:00Z"), PID: 4246, Agent: "zed", User: "dana@example.com", Team: "data", Method: "tools/call", Server: "fs", Tool: "fs__read_file", ToolOriginal: "read_file",
			Args: `{"path":"/tmp/notes.txt"}`, ArgsSize: 26, Result: "not json: plain text\nsecond line", ResultSize: 1 << 20, Status: logs.StatusOK,
			Latency: 14200 * time.Microsecond, BytesIn: 150, BytesOut: 1 << 20, Decision: "allow"},
	}
}

// isolateLogsEnv keeps the user's configuration, database and terminal
// settings out of a test.
func isolateLogsEnv(t *testing.T) {
	t.Helper()
	t.Setenv("MCPGW_DB", "")
	t.Setenv("MCPGW_CONFIG", filepath.Join(t.TempDir(), "no-config.yaml"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(t.TempDir(), "state"))
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("COLUMNS", "")
}

// seedRecord writes calls to a new database and returns its path.
func seedRecord(t *testing.T, calls []logs.Call) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mcpgw.db")
	db, err := logs.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if len(calls) > 0 {
		if err := db.Insert(context.Background(), calls); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// fixedClock is the prepare hook of the logs tests.
func fixedClock(o *LogsOptions) {
	o.Now = func() time.Time { return logsNow }
	o.Location = logsLoc
	o.Width = 100
	o.Interval = 10 * time.Millisecond
}

// runLogsCLI runs mcpgw as [Run] does, with the logs command built with
// prepare, and returns the exit code.
func runLogsCLI(ctx context.Context, io *IOStreams, prepare func(*LogsOptions), args ...string) int {
	return run(ctx, args, io, func(f *Factory, root *cobra.Command) {
		for _, c := range root.Commands() {
			if c.Name() == "logs" {
				root.RemoveCommand(c)
			}
		}
		root.AddCommand(NewCmdLogs(f, prepare))
	})
}

// logsRun runs mcpgw with the fixed clock; terminal says whether stdout
// is a terminal.
func logsRun(t *testing.T, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut testenv.SyncBuffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, IsTerminal: terminal}
	code := runLogsCLI(context.Background(), io, fixedClock, args...)
	return code, out.String(), errOut.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testenv.RepoRoot(t), "testdata", "golden", "logs", name+".golden")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/internal/cli -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from %s (-want +got; -update rewrites it):\n%s", name, path, diff)
	}
}

func TestLogsGolden(t *testing.T) {
	isolateLogsEnv(t)
	db := seedRecord(t, logsFixture())
	addDropped(t, db)
	for _, tc := range []struct {
		name     string
		terminal bool
		env      map[string]string
		width    int // 0: from $COLUMNS
		args     []string
	}{
		{"list_terminal", true, nil, 100, []string{"logs"}},
		{"list_terminal_no_color", true, map[string]string{"NO_COLOR": "1"}, 100, []string{"logs"}},
		{"list_terminal_narrow", true, map[string]string{"COLUMNS": "60"}, 0, []string{"logs"}},
		{"list_piped_table", false, nil, 100, []string{"logs", "-o", "table"}},
		{"list_wide_terminal", true, nil, 100, []string{"logs", "-o", "wide", "--status", "ok,denied,blocked,error"}},
		{"list_wide_piped", false, nil, 100, []string{"logs", "-o", "wide"}},
		{"list_piped_default", false, nil, 100, []string{"logs", "-n", "3"}},
		{"list_json", false, nil, 100, []string{"logs", "-o", "json", "--server", "github"}},
		{"list_csv", false, nil, 100, []string{"logs", "-o", "csv"}},
		{"show_terminal", true, nil, 100, []string{"logs", "show", "1"}},
		{"show_terminal_blocked", true, nil, 100, []string{"logs", "show", "4"}},
		{"show_terminal_plain_text_result", true, nil, 100, []string{"logs", "show", "10"}},
		{"show_piped", false, nil, 100, []string{"logs", "show", "8"}},
		{"stats_terminal", true, nil, 100, []string{"logs", "stats"}},
		{"stats_by_server_terminal", true, nil, 100, []string{"logs", "stats", "--by", "server"}},
		{"stats_by_status_terminal", true, nil, 100, []string{"logs", "stats", "--by", "status"}},
		{"stats_by_day_piped_table", false, nil, 100, []string{"logs", "stats", "--by", "day", "-o", "table"}},
		{"stats_by_hour_piped_csv", false, nil, 100, []string{"logs", "stats", "--by", "hour", "-o", "csv", "--until", "2025-11-24T12:00"}},
		{"stats_by_user_piped", false, nil, 100, []string{"logs", "stats", "--by", "user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			prepare := func(o *LogsOptions) { fixedClock(o); o.Width = tc.width }
			var out, errOut testenv.SyncBuffer
			io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, IsTerminal: tc.terminal}
			if code := runLogsCLI(context.Background(), io, prepare, append(tc.args, "--db", db)...); code != ExitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
			}
			got := out.String()
			golden(t, tc.name, got)
			color := tc.terminal && tc.env["NO_COLOR"] == ""
			if strings.HasSuffix(tc.name, "_csv") {
				// CSV keeps recorded text as it is, escape sequences included.
			} else if color != strings.Contains(got, "\x1b[") {
				t.Errorf("colour is %v, want %v:\n%q", !color, color, got)
			}
			if !color && !strings.HasSuffix(tc.name, "_csv") && strings.Contains(got, "\x1b") {
				t.Errorf("escape sequences in output that must be plain:\n%q", got)
			}
			width := tc.width
			if width == 0 {
				width = 60 // $COLUMNS
			}
			if tc.terminal {
				for _, l := range strings.Split(got, "\n") {
					if n := len([]rune(stripSGR(l))); n > width {
						t.Errorf("line of %d runes on a %d-column terminal: %q", n, width, l)
					}
				}
			}
		})
	}
}

func stripSGR(s string) string {
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], 'm')
		if j < 0 {
			return s
		}
		s = s[:i] + s[i+j+1:]
	}
}

// addDropped writes a dropped-records row as a recorder that lost calls
// would.
func addDropped(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec("INSERT INTO dropped (pid, started, count, last, reason) VALUES (?,?,?,?,?)",
		4245, time.Date(2025, 11, 25, 7, 0, 0, 0, time.UTC).UnixMicro(), 7, time.Date(2025, 11, 25, 8, 30, 0, 0, time.UTC).UnixMicro(), "queue full")
	if err != nil {
		t.Fatal(err)
	}
}

// idsOf runs mcpgw logs ARGS --jq .id on the fixture and returns the IDs
// printed, in order.
func idsOf(t *testing.T, db string, args ...string) []string {
	t.Helper()
	code, out, errOut := logsRun(t, false, append(append([]string{"logs", "--db", db}, args...), "--jq", ".id")...)
	if code != ExitOK {
		t.Fatalf("mcpgw logs %s: exit %d; stderr:\n%s", strings.Join(args, " "), code, errOut)
	}
	return strings.Fields(out)
}

func TestLogsFilters(t *testing.T) {
	isolateLogsEnv(t)
	db := seedRecord(t, logsFixture())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "10 9 8 7 6 5 4 3 2 1"},
		{[]string{"--server", "fx"}, "9 8 2 1"},
		{[]string{"--server", "fx", "--server", "search"}, "9 8 7 2 1"},
		{[]string{"--server", "fx,search"}, "9 8 7 2 1"},
		{[]string{"-s", "g*"}, "4 3"},
		{[]string{"--server", "[fm]*"}, "10 9 8 6 5 2 1"},
		{[]string{"--tool", "*__echo"}, "9 8 1"},
		{[]string{"-t", "github__*,fs__*"}, "10 4 3"},
		{[]string{"--status", "denied,blocked"}, "4 3"},
		{[]string{"--status", "OK"}, "10 9 1"},
		{[]string{"--user", "carl@example.com"}, "7 6"},
		{[]string{"--user", "*@example.com", "--team", "web"}, "3 2"},
		{[]string{"--team", "ops"}, "7 6"},
		{[]string{"--agent", "cursor", "--agent", "zed"}, "10 3 2"},
		{[]string{"--agent", "c*"}, "9 8 7 6 4 3 2 1"},
		// The clock is 2025-11-26 13:00 UTC (14:00 in the test zone).
		{[]string{"--since", "1h"}, "10 9"},
		{[]string{"--since", "1d"}, "10 9 8"},
		{[]string{"--since", "1d6h"}, "10 9 8 7"},
		{[]string{"--since", "today"}, "10 9"},
		{[]string{"--since", "yesterday", "--until", "today"}, "8 7"},
		{[]string{"--since", "2025-11-25"}, "10 9 8 7"},
		{[]string{"--since", "2025-11-24T10:10", "--until", "2025-11-24T12:00"}, "5 4 3"},
		{[]string{"--since", "2025-11-24T10:05:00"}, "10 9 8 7 6 5 4 3 2"},
		{[]string{"--since", "2025-11-24T09:05:00Z", "--until", "2025-11-24T09:15:00Z"}, "3 2"},
		{[]string{"--since", "2025-11-24T10:00:00+01:00", "--until", "2025-11-24 10:10"}, "2 1"},
		{[]string{"--until", "now", "--since", "30m"}, "10 9"},
		{[]string{"--min-latency", "5ms"}, "10 8 6 5"},
		{[]string{"--grep", "needle"}, "9"},
		{[]string{"--grep", "DIVISION"}, "2"},
		{[]string{"--grep", "github-pat"}, "4"},
		{[]string{"--grep", "read_file"}, "10"},
		{[]string{"--grep", "100%"}, ""},
		{[]string{"-n", "2"}, "10 9"},
		{[]string{"--limit", "2", "--tool", "fx__*"}, "9 8"},
		{[]string{"-n", "0"}, "10 9 8 7 6 5 4 3 2 1"},
		{[]string{"--server", "fx", "--user", "ana@example.com", "--status", "ok"}, "9 1"},
		{[]string{"--server", "fx' OR '1'='1"}, ""},
	} {
		got := strings.Join(idsOf(t, db, tc.args...), " ")
		if got != tc.want {
			t.Errorf("mcpgw logs %s: ids %q; want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	// 2d..1d ago: from 2025-11-24 13:00 to 2025-11-25 13:00 UTC.
	if got := strings.Join(idsOf(t, db, "--since", "2d", "--until", "1d"), " "); got != "7" {
		t.Errorf("--since 2d --until 1d: %q; want 7", got)
	}
}

func TestLogsBadFlags(t *testing.T) {
	isolateLogsEnv(t)
	db := seedRecord(t, logsFixture())
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--status", "fine"}, ExitUsage, `--status "fine": want one of ok, tool_error, denied`},
		{[]string{"--server", "[fx"}, ExitUsage, `--server pattern "[fx": syntax error in pattern`},
		{[]string{"--since", "yesterdayish"}, ExitUsage, `--since: "yesterdayish" is not a time`},
		{[]string{"--until", "-5m"}, ExitUsage, "--until:"},
		{[]string{"--since", "1h", "--until", "2h"}, ExitUsage, "is not before --until"},
		{[]string{"--min-latency", "fast"}, ExitUsage, "invalid argument"},
		{[]string{"--min-latency", "-1s"}, ExitUsage, "negative"},
		{[]string{"-n", "-1"}, ExitUsage, "negative"},
		{[]string{"-o", "yaml"}, ExitUsage, `--output "yaml": want table, wide, json, jsonl, csv`},
		{[]string{"--jq", ".id |"}, ExitUsage, `--jq ".id |": unexpected EOF`},
		{[]string{"--jq", "nosuchfunc"}, ExitUsage, "--jq"},
		{[]string{"--jq", ".id", "-o", "table"}, ExitUsage, "--jq works on JSON"},
		{[]string{"--jq", ".tool | tonumber"}, ExitError, "--jq"},
		{[]string{"-f", "-o", "json"}, ExitUsage, "use -o jsonl"},
		{[]string{"extra"}, ExitUsage, "unknown command"},
		{[]string{"show"}, ExitUsage, "accepts 1 arg"},
		{[]string{"show", "x"}, ExitUsage, `"x" is not a call ID`},
		{[]string{"show", "99"}, ExitError, "no call with id 99"},
		{[]string{"stats", "--by", "week"}, ExitUsage, `--by "week": want one of server, tool`},
		{[]string{"stats", "--status", "nope"}, ExitUsage, "--status"},
		{[]string{"prune"}, ExitUsage, "say what to delete"},
		{[]string{"prune", "--older-than", "soon"}, ExitUsage, "--older-than"},
		{[]string{"prune", "--max-size", "big"}, ExitUsage, `--max-size: "big" is not a size`},
	} {
		code, out, errOut := logsRun(t, false, append(append([]string{"logs"}, tc.args...), "--db", db)...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("mcpgw logs %s: exit %d, stderr %q; want exit %d and %q (stdout %q)", strings.Join(tc.args, " "), code, errOut, tc.code, tc.msg, out)
		}
	}
}

func TestLogsJQ(t *testing.T) {
	isolateLogsEnv(t)
	db := seedRecord(t, logsFixture())
	for _, tc := range []struct {
		args []string
		want string
	}{
		// Strings raw, other values compact JSON, one per line.
		{[]string{"--server", "github", "--jq", ".tool"}, "github__search\ngithub__create_issue\n"},
		{[]string{"--status", "timeout", "--jq", "{id, latency_us, time}"}, `{"id":5,"latency_us":30000000,"time":"2025-11-24T10:00:00Z"}` + "\n"},
		{[]string{"--status", "blocked", "--jq", ".findings[].rule, .roles"}, "github-pat\nnull\n"},
		{[]string{"--jq", "select(.latency_us >= 500000) | .id"}, "6\n5\n"},
		{[]string{"-o", "json", "--server", "fs", "--jq", ".args_size"}, "26\n"},
		{[]string{"--jq", "if .id == 8 then halt else .id end"}, "10\n9\n"},
		{[]string{"stats", "--by", "team", "--jq", `"\(.key)=\(.calls)"`}, "data=6\nops=2\nweb=2\n"},
		{[]string{"show", "1", "--jq", ".args | fromjson | .text"}, "hello\n"},
	} {
		args := append([]string{"logs", "--db", db}, tc.args...)
		code, out, errOut := logsRun(t, false, args...)
		if code != ExitOK || out != tc.want {
			t.Errorf("mcpgw %s: exit %d, stdout %q; want %q (stderr %s)", strings.Join(args, " "), code, out, tc.want, errOut)
		}
	}
}

func TestLogsDefaultLimitOnTerminal(t *testing.T) {
	isolateLogsEnv(t)
	var calls []logs.Call
	for i := range 60 {
		calls = append(calls, logs.Call{Time: logsNow.Add(-time.Duration(i) * time.Minute), Method: "tools/call", Server: "fx", Tool: "fx__echo", Status: logs.StatusOK})
	}
	db := seedRecord(t, calls)
	_, out, _ := logsRun(t, true, "logs", "--db", db)
	if n := strings.Count(out, "\n"); n != 51 { // header + 50
		t.Errorf("terminal: %d lines; want 51", n)
	}
	_, out, _ = logsRun(t, true, "logs", "--db", db, "-n", "0")
	if n := strings.Count(out, "\n"); n != 61 {
		t.Errorf("terminal -n 0: %d lines; want 61", n)
	}
	_, out, _ = logsRun(t, false, "logs", "--db", db)
	if n := strings.Count(out, "\n"); n != 60 {
		t.Errorf("piped: %d lines; want 60", n)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var c logs.Call
		if err := json.Unmarshal([]byte(l), &c); err != nil || c.ID == 0 {
			t.Fatalf("piped line %q is not a call: %v", l, err)
		}
	}
}

func TestLogsMissingRecord(t *testing.T) {
	isolateLogsEnv(t)
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"logs"}, ExitOK, ""},
		{[]string{"logs", "-o", "json"}, ExitOK, "[]\n"},
		{[]string{"logs", "-o", "csv"}, ExitOK, strings.Join(csvHeader, ",") + "\n"},
		{[]string{"logs", "stats", "--by", "server", "-o", "json"}, ExitOK, "{\n  \"by\": \"server\",\n  \"rows\": [],\n  \"dropped\": {\n    \"total\": 0,\n    \"processes\": []\n  }\n}\n"},
		{[]string{"logs", "prune", "--older-than", "30d", "-o", "table"}, ExitOK, "deleted 0 calls (older than 30d) from " + missing + "; data 0 B → 0 B\n"},
		{[]string{"logs", "show", "1"}, ExitError, ""},
	} {
		code, out, errOut := logsRun(t, false, append(tc.args, "--db", missing)...)
		if code != tc.code || out != tc.out || !strings.Contains(errOut, "no record yet at "+missing+"; calls are recorded by mcpgw serve") {
			t.Errorf("mcpgw %s on a missing record: exit %d, stdout %q, stderr %q; want exit %d, stdout %q", strings.Join(tc.args, " "), code, out, errOut, tc.code, tc.out)
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reading a missing record created it: %v", err)
	}
	// A stats table still shows the (empty) total.
	code, out, _ := logsRun(t, true, "logs", "stats", "--db", missing)
	if code != ExitOK || !strings.Contains(out, "CALLS") || !strings.Contains(out, "0.0%") {
		t.Errorf("stats table on a missing record: exit %d\n%s", code, out)
	}
}

func TestLogsDBPathPrecedence(t *testing.T) {
	isolateLogsEnv(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "conf", "config.yaml")
	os.MkdirAll(filepath.Dir(cfgPath), 0o755)
	f := &Factory{IO: &IOStreams{}, v: viper.New()}
	f.v.Set("config", cfgPath)

	def, err := logs.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, flag, want string) {
		t.Helper()
		got, err := f.logsDBPath(flag)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", what, got, err, want)
		}
	}
	check("no config file: the default", "", def)
	os.WriteFile(cfgPath, []byte("servers: {}\n"), 0o644)
	check("config without logs.path: the default", "", def)
	os.WriteFile(cfgPath, []byte("logs:\n  path: rec/calls.db\n"), 0o644)
	check("relative logs.path: from the config's directory", "", filepath.Join(dir, "conf", "rec", "calls.db"))
	os.WriteFile(cfgPath, []byte("logs:\n  path: /abs/calls.db\n"), 0o644)
	check("absolute logs.path", "", "/abs/calls.db")
	t.Setenv("MCPGW_DB", "/env/calls.db")
	check("MCPGW_DB beats the config", "", "/env/calls.db")
	check("--db beats MCPGW_DB", "/flag/calls.db", "/flag/calls.db")

	// With MCPGW_DB or --db, a broken config file does not matter; without,
	// it is a configuration error.
	os.WriteFile(cfgPath, []byte("logs: [\n"), 0o644)
	check("MCPGW_DB with a broken config", "", "/env/calls.db")
	t.Setenv("MCPGW_DB", "")
	if _, err := f.logsDBPath(""); exitCode(err) != ExitConfig {
		t.Errorf("broken config: %v (exit %d); want exit %d", err, exitCode(err), ExitConfig)
	}

	// DBPath itself, as serve uses it.
	if got, _ := f.DBPath(nil, ""); got != def {
		t.Errorf("DBPath(nil, \"\") = %q; want %q", got, def)
	}

	// Through the CLI: MCPGW_DB selects the database.
	db := seedRecord(t, logsFixture())
	t.Setenv("MCPGW_DB", db)
	code, out, errOut := logsRun(t, false, "logs", "-n", "1", "--jq", ".id")
	if code != ExitOK || out != "10\n" {
		t.Errorf("MCPGW_DB: exit %d, %q; stderr %s", code, out, errOut)
	}
}

func TestLogsShowJSON(t *testing.T) {
	isolateLogsEnv(t)
	db := seedRecord(t, logsFixture())
	code, out, errOut := logsRun(t, true, "logs", "show", "4", "-o", "json", "--db", db)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got logs.Call
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := logsFixture()[3]
	want.ID = 4
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("show -o json (-want +got):\n%s", diff)
	}
}

func TestLogsStatsJSONAndDropped(t *testing.T) {
	isolateLogsEnv(t)
	db := seedRecord(t, logsFixture())
	addDropped(t, db)
	code, out, errOut := logsRun(t, false, "logs", "stats", "--by", "server", "--db", db)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		By   string
		Rows []struct {
			Key                   string
			Calls, Errors, Denied int64
			P50US                 int64 `json:"p50_us"`
		}
		Dropped DroppedReport
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.By != "server" || len(rep.Rows) != 5 || rep.Rows[0].Key != "fx" || rep.Rows[0].Calls != 4 || rep.Rows[0].P50US != 2500 {
		t.Errorf("stats JSON: %+v", rep)
	}
	if rep.Dropped.Total != 7 || len(rep.Dropped.Processes) != 1 || rep.Dropped.Processes[0].PID != 4245 || rep.Dropped.Processes[0].Reason != "queue full" {
		t.Errorf("dropped: %+v", rep.Dropped)
	}
}

func TestLogsPrune(t *testing.T) {
	isolateLogsEnv(t)
	now := time.Now()
	var calls []logs.Call
	for i := range 5 {
		age := []time.Duration{40 * 24 * time.Hour, 40 * 24 * time.Hour, 40 * 24 * time.Hour, 10 * time.Minute, 3 * time.Hour}[i]
		calls = append(calls, logs.Call{Time: now.Add(-age), Method: "tools/call", Server: "fx", Tool: "fx__echo", Status: logs.StatusOK})
	}
	db := seedRecord(t, calls)
	code, out, errOut := logsRun(t, false, "logs", "prune", "--older-than", "30d", "--db", db)
	if code != ExitOK {
		t.Fatalf("prune: exit %d: %s", code, errOut)
	}
	var rep PruneReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Deleted != 3 || rep.DB != db || rep.SizeBefore == 0 {
		t.Errorf("prune JSON %s: %+v, %v", out, rep, err)
	}
	if got := idsOf(t, db); strings.Join(got, " ") != "4 5" {
		t.Errorf("after prune: ids %v; want 4 5", got)
	}
	code, out, _ = logsRun(t, true, "logs", "prune", "--older-than", "1d12h", "--max-size", "1GB", "--db", db)
	if code != ExitOK || !strings.HasPrefix(out, "deleted 0 calls (older than 36h0m0s and beyond 1.0 GiB) from "+db) {
		t.Errorf("prune table: exit %d, %q", code, out)
	}

	// Without flags, the configured retention applies.
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("logs:\n  retention: {max_age: 1h}\n"), 0o644)
	t.Setenv("MCPGW_CONFIG", cfg)
	code, out, errOut = logsRun(t, false, "logs", "prune", "--db", db)
	if code != ExitOK || !strings.Contains(out, `"deleted": 1`) {
		t.Errorf("prune by configured retention: exit %d, %s %s", code, out, errOut)
	}
}

// waitOutput waits until buf holds want, or fails at the deadline.
func waitOutput(t *testing.T, ctx context.Context, buf *testenv.SyncBuffer, want string) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(buf.String(), want) {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %q; have:\n%s", want, buf.String())
		case <-tick.C:
		}
	}
}

// TestLogsFollow runs `mcpgw logs -f` while another database handle (a
// writer with its own connections, as mcpgw serve has) inserts calls.
func TestLogsFollow(t *testing.T) {
	isolateLogsEnv(t)
	deadline, cancelAll := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelAll()

	for _, tc := range []struct {
		name     string
		terminal bool
		args     []string
		backlog  []string // in the output before any new call
		absent   string   // never in the output
	}{
		{"jsonl", false, []string{"--status", "ok,error", "-n", "2"}, []string{`"id":9,`, `"id":10,`}, `"id":8,`},
		{"table", true, []string{"--tool", "fx__*"}, []string{"fx__add", "Division by zero"}, "github"},
		{"jq", false, []string{"--server", "fx", "--jq", `"call \(.id)"`}, []string{"call 1\n", "call 9\n"}, "call 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := seedRecord(t, logsFixture())
			w, err := logs.Open(deadline, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ctx, cancel := context.WithCancel(deadline)
			defer cancel()
			var out, errOut testenv.SyncBuffer
			io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, IsTerminal: tc.terminal}
			done := make(chan int, 1)
			go func() {
				done <- runLogsCLI(ctx, io, fixedClock, append([]string{"logs", "-f", "--db", path}, tc.args...)...)
			}()
			for _, b := range tc.backlog {
				waitOutput(t, deadline, &out, b)
			}
			last, _ := w.LastID(ctx)
			// A matching call and a non-matching one, then another matching.
			fresh := []logs.Call{
				{Time: logsNow, Method: "tools/call", Server: "github", Tool: "github__search", Status: logs.StatusTimeout, Error: "not me"},
				{Time: logsNow, Method: "tools/call", Server: "fx", Tool: "fx__echo", Status: logs.StatusOK, User: "erin@example.com", Latency: 7 * time.Millisecond},
			}
			if err := w.Insert(ctx, fresh); err != nil {
				t.Fatal(err)
			}
			first := fresh[1].ID
			switch tc.name {
			case "jsonl":
				waitOutput(t, deadline, &out, fmt.Sprintf(`"id":%d,`, first))
			case "table":
				waitOutput(t, deadline, &out, "erin@example.com")
			case "jq":
				waitOutput(t, deadline, &out, fmt.Sprintf("call %d\n", first))
			}
			if err := w.Insert(ctx, []logs.Call{{Time: logsNow, Method: "tools/call", Server: "fx", Tool: "fx__add", Status: logs.StatusError, Error: "second"}}); err != nil {
				t.Fatal(err)
			}
			switch tc.name {
			case "jsonl":
				waitOutput(t, deadline, &out, fmt.Sprintf(`"id":%d,`, last+3))
			case "table":
				waitOutput(t, deadline, &out, "second")
			case "jq":
				waitOutput(t, deadline, &out, fmt.Sprintf("call %d\n", last+3))
			}
			cancel()
			select {
			case code := <-done:
				if code != ExitOK {
					t.Errorf("exit %d after Ctrl-C; want 0; stderr:\n%s", code, errOut.String())
				}
			case <-deadline.Done():
				t.Fatal("logs -f did not stop when its context was cancelled")
			}
			got := out.String()
			if strings.Contains(got, tc.absent) || strings.Contains(got, "not me") {
				t.Errorf("output has rows the filter excludes:\n%s", got)
			}
			if tc.name == "table" {
				if strings.Count(got, "TIME") != 1 {
					t.Errorf("table header printed %d times:\n%s", strings.Count(got, "TIME"), got)
				}
				if !strings.Contains(got, "\x1b[32mok") {
					t.Errorf("no colour on the terminal:\n%q", got)
				}
			}
			// Backlog rows come oldest first, then the new ones.
			if tc.name == "jq" {
				want := fmt.Sprintf("call 1\ncall 2\ncall 8\ncall 9\ncall %d\ncall %d\n", first, last+3)
				if got != want {
					t.Errorf("output %q; want %q", got, want)
				}
			}
		})
	}
}

// TestLogsFollowWaitsForTheRecord follows a database that does not exist
// yet: it says so, then shows the calls once mcpgw serve creates it.
func TestLogsFollowWaitsForTheRecord(t *testing.T) {
	isolateLogsEnv(t)
	path := filepath.Join(t.TempDir(), "later", "mcpgw.db")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut testenv.SyncBuffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	done := make(chan int, 1)
	fctx, stop := context.WithCancel(ctx)
	go func() { done <- runLogsCLI(fctx, io, fixedClock, "logs", "-f", "--db", path, "--jq", ".tool") }()
	waitOutput(t, ctx, &errOut, "no record yet at "+path)
	w, err := logs.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Insert(ctx, logsFixture()[:2]); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, ctx, &out, "fx__echo\nfx__add\n")
	stop()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d; stderr %s", code, errOut.String())
	}
}

// TestLogsCommandsTakeOutput keeps the logs commands in line with the
// other data commands.
func TestLogsCommandsTakeOutput(t *testing.T) {
	root := testRoot()
	for _, path := range []string{"logs", "logs show", "logs stats", "logs prune"} {
		c, _, err := root.Find(strings.Fields(path))
		if err != nil || c.CommandPath() != "mcpgw "+path {
			t.Fatalf("finding %q: %v", path, err)
		}
		if fl := c.Flags().Lookup("output"); fl == nil || fl.Shorthand != "o" {
			t.Errorf("%q has no -o/--output", path)
		}
		if c.PersistentFlags().Lookup("db") == nil && c.InheritedFlags().Lookup("db") == nil {
			t.Errorf("%q has no --db", path)
		}
	}
}

func TestParseWhenAndAge(t *testing.T) {
	now := logsNow
	for in, want := range map[string]time.Time{
		"15m":                         now.Add(-15 * time.Minute),
		"2h":                          now.Add(-2 * time.Hour),
		"7d":                          now.Add(-7 * 24 * time.Hour),
		"2w":                          now.Add(-14 * 24 * time.Hour),
		"1d12h":                       now.Add(-36 * time.Hour),
		"1.5h":                        now.Add(-90 * time.Minute),
		"now":                         now,
		"today":                       time.Date(2025, 11, 26, 0, 0, 0, 0, logsLoc),
		"2025-11-20":                  time.Date(2025, 11, 20, 0, 0, 0, 0, logsLoc),
		"2025-11-20T08:30":            time.Date(2025, 11, 20, 8, 30, 0, 0, logsLoc),
		"2025-11-20 08:30:15":         time.Date(2025, 11, 20, 8, 30, 15, 0, logsLoc),
		"2025-11-20T08:30:15Z":        time.Date(2025, 11, 20, 8, 30, 15, 0, time.UTC),
		"2025-11-20T08:30:15.5-05:00": time.Date(2025, 11, 20, 13, 30, 15, 5e8, time.UTC),
	} {
		got, err := parseWhen(in, now, logsLoc)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "5", "-2h", "7days", "2025-13-01", "d"} {
		if _, err := parseWhen(bad, now, logsLoc); err == nil {
			t.Errorf("parseWhen(%q): no error", bad)
		}
	}
	for in, want := range map[string]int64{"500MB": 500 << 20, "2GB": 2 << 30, "64kb": 64 << 10, "1024": 1024, "1 GiB": 1 << 30} {
		if got, err := config.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "MB", "5XB", "-1MB"} {
		if _, err := config.ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q): no error", bad)
		}
	}
}

func TestFormatHelpers(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0µs", 999 * time.Microsecond: "999µs", 1200 * time.Microsecond: "1.2ms", 999999 * time.Microsecond: "1000.0ms",
		1500 * time.Millisecond: "1.50s", 90 * time.Second: "1m30s",
	} {
		if got := fmtLatency(d); got != want {
			t.Errorf("fmtLatency(%v) = %q; want %q", d, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1 << 20: "1.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := fmtBytes(n); got != want {
			t.Errorf("fmtBytes(%d) = %q; want %q", n, got, want)
		}
	}
	if got := clean("a\n\tb \x1b[31mc\x1b[0m\x00 "); got != "a b [31mc [0m" {
		t.Errorf("clean = %q", got)
	}
}
