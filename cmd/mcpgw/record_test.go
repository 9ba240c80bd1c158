package main

import (
	"bufio"
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
	"github.com/mcpgw/mcpgw/logs"
)

// recordOf reads every recorded call in the database at path, oldest first.
func recordOf(t *testing.T, path string) []logs.Call {
	t.Helper()
	db, err := logs.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	calls, err := db.Query(context.Background(), logs.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(calls)
	return calls
}

// TestRecordEveryStatus makes calls that end every way a call can end
// through a real `mcpgw serve`,
// and reads them back from the SQLite file once mcpgw has exited (shutdown
// flushes the queue).
func TestRecordEveryStatus(t *testing.T) {
	fx := testenv.Fixture(t)
	db := filepath.Join(t.TempDir(), "record.db")
	// The server is given a stored secret through the env fallback, with
	// no session bus (so no keychain is asked, nor started by activation):
	// a call carrying its value is blocked.
	const deployKey = "s3cr3t-deploy-value-1234"
	cfgPath := writeConfig(t, fmt.Sprintf("servers:\n  fx:\n    command: %q\n    timeouts: {call: 2s}\n    tools: {deny: [add]}\n    env: {DEPLOY_KEY: \"${secret:DEPLOY_KEY}\"}\nsecrets: {fallback: env}\n", fx))
	a := startServeEnv(t, cfgPath, "2025-11-25", "MCPGW_DB="+db, "MCPGW_USER=ana@example.com", "MCPGW_TEAM=data", "MCPGW_ROLES=dev,oncall",
		"MCPGW_SECRET_DEPLOY_KEY="+deployKey, "DBUS_SESSION_BUS_ADDRESS=unix:path="+t.TempDir()+"/no-bus")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitFor(t, ctx, "fx's tools", func() bool { return slices.Contains(a.toolNames(t, ctx), "fx__echo") })

	callTool := func(ctx context.Context, name string, args map[string]any) {
		a.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	}
	callTool(ctx, "fx__echo", map[string]any{"text": "hello record"})
	callTool(ctx, "fx__fail", nil)
	callTool(ctx, "fx__sleep", map[string]any{"ms": 10000}) // past the 2s call timeout
	cctx, ccancel := context.WithCancel(ctx)
	go func() {
		waitFor(t, ctx, "the wait call to reach the server", func() bool {
			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__cancelled_count"})
			return err == nil && res.StructuredContent != nil && strings.Contains(fmt.Sprint(res.StructuredContent), "waiting:1")
		})
		ccancel()
	}()
	callTool(cctx, "fx__wait", nil)
	callTool(ctx, "fx__echo", map[string]any{"text": 42}) // wrong type: the server's own protocol error
	// A tool the server's filter removed is denied, not unknown.
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__add", Arguments: map[string]any{"a": 1, "b": 2}})
	if err != nil || !res.IsError || !strings.Contains(fmt.Sprint(res.Content[0]), "denied by this gateway's configuration") {
		t.Errorf("a denied tool: %v %+v", err, res)
	}
	// A stored secret's value in the arguments is blocked by the guard.
	res, err = a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "deploy with " + deployKey}})
	if err != nil || !res.IsError || !strings.Contains(fmt.Sprint(res.Content[0]), "blocked") || !strings.Contains(fmt.Sprint(res.Content[0]), "DEPLOY_KEY") ||
		strings.Contains(fmt.Sprint(res.Content[0]), deployKey) {
		t.Errorf("a call carrying a stored secret: %v %+v", err, res)
	}
	callTool(ctx, "fx__crash", nil)
	// The record is complete once mcpgw has shut down.
	a.cs.Close()
	a.cmd.Wait()

	calls := recordOf(t, db)
	byTool := map[string][]logs.Call{}
	for _, c := range calls {
		byTool[c.Tool] = append(byTool[c.Tool], c)
	}
	want := []struct {
		tool   string
		status logs.Status
		detail string
	}{
		{"fx__echo", logs.StatusOK, ""},
		{"fx__fail", logs.StatusToolError, ""},
		{"fx__sleep", logs.StatusTimeout, "did not answer"},
		{"fx__wait", logs.StatusCancelled, ""},
		{"fx__echo", logs.StatusError, "text"},
		{"fx__add", logs.StatusDenied, "denied"},
		{"fx__echo", logs.StatusBlocked, "stored secret DEPLOY_KEY"},
		{"fx__crash", logs.StatusUnavailable, "failed on"},
	}
	seen := map[string]int{}
	for _, w := range want {
		i := seen[w.tool]
		seen[w.tool]++
		if i >= len(byTool[w.tool]) {
			t.Errorf("no record #%d of %s (records: %+v)", i+1, w.tool, calls)
			continue
		}
		c := byTool[w.tool][i]
		if c.Status != w.status || !strings.Contains(c.Error, w.detail) {
			t.Errorf("%s #%d: status %s, error %q; want %s with %q", w.tool, i+1, c.Status, c.Error, w.status, w.detail)
		}
	}
	blocked := byTool["fx__echo"][2]
	if blocked.Decision != "block" || !strings.Contains(blocked.Reason, "DEPLOY_KEY") ||
		!slices.Equal(blocked.Findings, []logs.Finding{{Rule: "stored-secret", Path: "$.arguments.text"}}) ||
		strings.Contains(blocked.Args, deployKey) || !strings.Contains(blocked.Args, "[redacted:DEPLOY_KEY]") {
		t.Errorf("the blocked call's record: decision %q reason %q findings %+v args %q", blocked.Decision, blocked.Reason, blocked.Findings, blocked.Args)
	}
	if denied := byTool["fx__add"][0]; denied.Decision != "deny" || !strings.Contains(denied.Reason, "tools: filter") {
		t.Errorf("the denied call's record: decision %q reason %q", denied.Decision, denied.Reason)
	}
	raw, _ := os.ReadFile(db)
	wal, _ := os.ReadFile(db + "-wal")
	if strings.Contains(string(raw)+string(wal), deployKey) {
		t.Error("the stored secret's value is in the database file")
	}
	ok := byTool["fx__echo"][0]
	if ok.Server != "fx" || ok.ToolOriginal != "echo" || ok.Method != "tools/call" || ok.Agent != "reload-agent" ||
		ok.User != "ana@example.com" || ok.Team != "data" || !slices.Equal(ok.Roles, []string{"dev", "oncall"}) ||
		!strings.Contains(ok.Args, "hello record") || !strings.Contains(ok.Result, "hello record") ||
		ok.ArgsHash == "" || ok.ResultSize == 0 || ok.Latency <= 0 || ok.PID == 0 || ok.Session == "" {
		t.Errorf("the ok call's record is incomplete: %+v", ok)
	}
}

// TestRecordManyProcesses runs six `mcpgw serve` processes at once, each
// making 1,000 calls from six callers, into one database: every call is
// recorded. (The recorder's batching under load is measured by the record
// benchmarks; this checks that nothing is lost or refused.)
func TestRecordManyProcesses(t *testing.T) {
	const procs, perProc, callers = 6, 1000, 6
	fx := testenv.Fixture(t)
	db := filepath.Join(t.TempDir(), "shared.db")
	cfgPath := writeConfig(t, fmt.Sprintf("servers:\n  fx:\n    command: %q\n", fx))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	var agents []*reloadAgent
	for p := range procs {
		a := startServeEnv(t, cfgPath, "2025-11-25", "MCPGW_DB="+db)
		agents = append(agents, a)
		wg.Go(func() {
			waitFor(t, ctx, "fx's tools", func() bool { return slices.Contains(a.toolNames(t, ctx), "fx__echo") })
			var cw sync.WaitGroup
			for c := range callers {
				cw.Go(func() {
					for i := c; i < perProc; i += callers {
						res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": fmt.Sprintf("p%d-%d", p, i)}})
						if err != nil || res.IsError {
							errs <- fmt.Errorf("process %d call %d: %v %+v", p, i, err, res)
							return
						}
					}
				})
			}
			cw.Wait()
		})
	}
	// Read while they write: never an error, never SQLITE_BUSY.
	reads := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		case err := <-errs:
			t.Fatal(err)
		case <-time.After(200 * time.Millisecond):
			if _, err := os.Stat(db); err != nil {
				continue
			}
			r, err := logs.Open(ctx, db, &logs.OpenOptions{ReadOnly: true})
			if err != nil {
				t.Fatalf("opening the record while it is written: %v", err)
			}
			if _, err := r.Query(ctx, logs.Filter{Limit: 10}); err != nil {
				t.Fatalf("reading the record while it is written: %v", err)
			}
			r.Close()
			reads++
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	// Records trail their calls by a batch or so; under -race SQLite (Go
	// compiled from C) writes several times slower than the calls come,
	// and a stopping mcpgw flushes for a few seconds only. So wait for the
	// rows to arrive, then stop the gateways.
	r, err := logs.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor(t, ctx, "every call in the record", func() bool {
		n, err := r.Count(ctx)
		return err == nil && n == procs*perProc
	})
	for _, a := range agents {
		a.cs.Close()
		a.cmd.Wait()
	}
	calls := recordOf(t, db)
	if len(calls) != procs*perProc {
		t.Errorf("%d calls recorded; want %d", len(calls), procs*perProc)
	}
	pids := map[int]int{}
	for _, c := range calls {
		pids[c.PID]++
	}
	if len(pids) != procs {
		t.Errorf("records from %d processes; want %d", len(pids), procs)
	}
	if d, err := r.Dropped(ctx); err != nil || d.Total != 0 {
		t.Errorf("dropped = %+v, %v; want none", d, err)
	}
	t.Logf("%d rows from %d processes, %d reads while writing", len(calls), len(pids), reads)
}

// TestLogsFollowSeesAnotherProcess runs `mcpgw logs -f` while a separate
// `mcpgw serve` writes the record.
func TestLogsFollowSeesAnotherProcess(t *testing.T) {
	fx := testenv.Fixture(t)
	db := filepath.Join(t.TempDir(), "follow.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	follow := exec.CommandContext(ctx, testenv.Mcpgw(t), "logs", "-f", "-o", "jsonl", "--db", db, "--tool", "fx__echo")
	out, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	follow.Stderr = &testWriter{t: t}
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { follow.Process.Kill(); follow.Wait() }()

	cfgPath := writeConfig(t, fmt.Sprintf("servers:\n  fx:\n    command: %q\n", fx))
	a := startServeEnv(t, cfgPath, "2025-11-25", "MCPGW_DB="+db)
	waitFor(t, ctx, "fx's tools", func() bool { return slices.Contains(a.toolNames(t, ctx), "fx__echo") })
	for i := range 3 {
		a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": fmt.Sprintf("followed-%d", i)}})
	}
	a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__fail"}) // filtered out
	sc := bufio.NewScanner(out)
	for i := range 3 {
		if !sc.Scan() {
			t.Fatalf("logs -f ended after %d rows: %v", i, sc.Err())
		}
		var c logs.Call
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("logs -f row %q: %v", sc.Text(), err)
		}
		if c.Tool != "fx__echo" || !strings.Contains(c.Args, fmt.Sprintf("followed-%d", i)) {
			t.Errorf("row %d = %s", i, sc.Text())
		}
	}
}

// TestRecordUnwritable points the record at a path that cannot be a
// database: calls still work, and stderr says why nothing is recorded.
func TestRecordUnwritable(t *testing.T) {
	fx := testenv.Fixture(t)
	dir := t.TempDir() // a directory where the database file should be
	cfgPath := writeConfig(t, fmt.Sprintf("servers:\n  fx:\n    command: %q\n", fx))
	a := startServeEnv(t, cfgPath, "2025-11-25", "MCPGW_DB="+dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitFor(t, ctx, "fx's tools", func() bool { return slices.Contains(a.toolNames(t, ctx), "fx__echo") })
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "unrecorded"}})
	if err != nil || res.IsError {
		t.Fatalf("a call with an unwritable record: %v %+v", err, res)
	}
	if logs := a.stderr.String(); !strings.Contains(logs, "calls will not be recorded") {
		t.Errorf("stderr does not say the record is off:\n%s", logs)
	}
}
