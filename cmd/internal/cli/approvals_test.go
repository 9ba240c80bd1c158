package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/policy/approval"
)

// approvalsRun runs `mcpgw approvals ARGS` on the record at db.
func approvalsRun(t *testing.T, db string, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut testenv.SyncBuffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, IsTerminal: terminal}
	code := run(context.Background(), append([]string{"approvals", "--db", db}, args...), io, nil)
	return code, out.String(), errOut.String()
}

// TestApprovalsCommands lists and decides approvals in a real record: the
// table and JSON of list, approve with each scope, deny with a reason, and
// the errors (a decided approval, an unknown id, bad flags).
func TestApprovalsCommands(t *testing.T) {
	isolateLogsEnv(t)
	path := seedRecord(t, nil)
	ctx := context.Background()
	db, err := logs.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := db.CreateApproval(ctx, approval.Request{Created: time.Now().Add(-time.Minute), PID: 7, Server: "fx", Tool: "delete", Exposed: "fx__delete",
			Args: `{"n":` + string(rune('0'+i)) + `}`, ArgsHash: "h", Rule: "approval.rules[0]", Channel: approval.OutOfBand}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	t.Setenv("MCPGW_DB", path)
	if cands, _ := complete(t, "approvals", "deny", ""); strings.Join(cands, "|") != "4\tfx__delete {\"n\":3}|3\tfx__delete {\"n\":2}|2\tfx__delete {\"n\":1}|1\tfx__delete {\"n\":0}" {
		t.Errorf("completion of approvals deny: %q; want the pending ids, newest first", cands)
	}
	code, out, _ := approvalsRun(t, path, true, "list")
	if code != 0 || !strings.Contains(out, "ID") || !strings.Contains(out, "fx__delete") || strings.Count(out, "pending") != 4 {
		t.Errorf("list (table): exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"approve", "1"}, 0, "approval 1 approved: fx__delete (this call)"},
		{[]string{"approve", "2", "--for", "session"}, 0, "approval 2 approved: fx__delete (for the rest of the session)"},
		{[]string{"approve", "3", "--for", "args", "--ttl", "2h"}, 0, "approval 3 approved: fx__delete (these arguments until"},
		{[]string{"deny", "4", "--reason", "no"}, 0, "approval 4 denied: fx__delete (this call): no"},
		{[]string{"deny", "4"}, 1, "approval 4 was denied already"},
		{[]string{"approve", "9"}, 2, "no approval 9; see the waiting ones with: mcpgw approvals list"},
		{[]string{"approve", "x"}, 2, `"x" is not an approval id`},
		{[]string{"approve", "1", "--for", "ever"}, 2, `--for "ever": use once, session or args`},
	} {
		code, _, errOut := approvalsRun(t, path, false, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("approvals %s: exit %d, %q; want %d, %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.want)
		}
	}
	code, out, errOut := approvalsRun(t, path, false, "list")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("list with none pending (json): exit %d, %q, %q", code, out, errOut)
	}
	_, out, _ = approvalsRun(t, path, false, "list", "--all")
	var rows []approvalJSON
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0].State != "denied" || rows[0].Reason != "no" || rows[1].Scope != "args" || rows[1].Expires == nil ||
		time.Until(*rows[1].Expires) < time.Hour || rows[2].Scope != "session" || rows[3].Scope != "once" || rows[3].DecidedBy == "" {
		t.Errorf("list --all: %+v", rows)
	}
}
