package logs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestServerStatus(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := Gateway{PID: 100, Started: 5, Agent: "claude-ai 0.1.0", Config: "/c.yaml"}
	b := Gateway{PID: 200, Started: 7}
	since := time.UnixMicro(time.Now().UnixMicro())
	first := []ServerStatus{
		{Server: "fs", State: "ready", Since: since, ServerPID: 1234, ServerStarted: 99},
		{Server: "mem", State: "failed", Restarts: 3, LastError: "process exit status 1", Stderr: []string{"boom", "bang"}},
	}
	if err := db.SaveServerStatus(ctx, a, first); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveServerStatus(ctx, b, []ServerStatus{{Server: "x", State: "starting"}}); err != nil {
		t.Fatal(err)
	}
	// A later save replaces all of a's rows: a server gone from its
	// config disappears.
	if err := db.SaveServerStatus(ctx, a, first[1:]); err != nil {
		t.Fatal(err)
	}
	got, err := db.ServerStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ServerStatus{
		{Gateway: a, Server: "mem", State: "failed", Restarts: 3, LastError: "process exit status 1", Stderr: []string{"boom", "bang"}},
		{Gateway: b, Server: "x", State: "starting"},
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(ServerStatus{}, "Updated")); d != "" {
		t.Errorf("ServerStatuses (-want +got):\n%s", d)
	}
	for _, r := range got {
		if time.Since(r.Updated) > time.Minute || r.Updated.After(time.Now()) {
			t.Errorf("%s: updated %v, want about now", r.Server, r.Updated)
		}
	}

	if err := db.SaveServerStatus(ctx, a, first[:1]); err != nil {
		t.Fatal(err)
	}
	got, _ = db.ServerStatuses(ctx)
	if len(got) != 2 || !got[0].Since.Equal(since) || got[0].ServerPID != 1234 || got[0].ServerStarted != 99 {
		t.Errorf("after the second save: %+v", got)
	}

	if err := db.DeleteServerStatus(ctx, a.PID); err != nil {
		t.Fatal(err)
	}
	got, _ = db.ServerStatuses(ctx)
	if len(got) != 1 || got[0].Gateway.PID != b.PID {
		t.Errorf("after deleting gateway %d: %+v", a.PID, got)
	}
}
