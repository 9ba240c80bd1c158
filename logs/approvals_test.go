package logs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/policy/approval"
)

// TestApprovals stores, reads, decides and lists approvals in a real
// database: only a pending approval is decided (the first decider wins),
// and an approval of exact arguments is granted until it expires.
func TestApprovals(t *testing.T) {
	db := openTemp(t, nil)
	ctx := context.Background()
	req := approval.Request{Created: time.Now(), PID: 42, User: "ana", Session: "s1", Server: "fx", Tool: "delete", Exposed: "fx__delete",
		Args: `{"name":"a"}`, ArgsHash: "h1", Rule: "approval.rules[0]", Channel: approval.OutOfBand}
	id, err := db.CreateApproval(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateApproval(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Approval(ctx, id)
	if err != nil || got.State != approval.Pending || got.Exposed != "fx__delete" || got.Channel != approval.OutOfBand || got.PID != 42 || got.Args != req.Args {
		t.Fatalf("Approval(%d) = %+v, %v", id, got, err)
	}
	if _, err := db.Approval(ctx, 999); !errors.Is(err, approval.ErrNotFound) {
		t.Errorf("Approval(999): %v; want ErrNotFound", err)
	}
	now := time.Now()
	if g, err := db.ApprovalGranted(ctx, "fx", "delete", "h1", now); g != nil || err != nil {
		t.Errorf("granted before any decision: %+v, %v", g, err)
	}
	until := now.Add(time.Hour)
	d, err := db.DecideApproval(ctx, id, approval.Decision{State: approval.Approved, By: "ana", Scope: approval.Args, Expires: until, Reason: "fine"})
	if err != nil || d.State != approval.Approved || d.DecidedBy != "ana" || d.Scope != approval.Args || d.Expires.UnixMicro() != until.UnixMicro() || d.Decided.IsZero() {
		t.Fatalf("decided: %+v, %v", d, err)
	}
	if d, err := db.DecideApproval(ctx, id, approval.Decision{State: approval.Expired, By: "mcpgw"}); !errors.Is(err, approval.ErrDecided) || d.State != approval.Approved {
		t.Errorf("second decision: %+v, %v; want ErrDecided and the first decision kept", d, err)
	}
	if g, err := db.ApprovalGranted(ctx, "fx", "delete", "h1", now); err != nil || g == nil || g.ID != id {
		t.Errorf("granted: %+v, %v; want approval %d", g, err, id)
	}
	for _, tc := range []struct{ server, tool, hash string }{{"fx", "delete", "h2"}, {"fx", "other", "h1"}, {"gx", "delete", "h1"}} {
		if g, _ := db.ApprovalGranted(ctx, tc.server, tc.tool, tc.hash, now); g != nil {
			t.Errorf("granted for %v", tc)
		}
	}
	if g, _ := db.ApprovalGranted(ctx, "fx", "delete", "h1", until.Add(time.Second)); g != nil {
		t.Error("granted after it expired")
	}
	pending, err := db.Approvals(ctx, true, 0)
	if err != nil || len(pending) != 1 || pending[0].ID != other {
		t.Errorf("pending: %+v, %v; want only %d", pending, err, other)
	}
	all, err := db.Approvals(ctx, false, 0)
	if err != nil || len(all) != 2 || all[0].ID != other {
		t.Errorf("all: %+v, %v; want both, newest first", all, err)
	}
}
