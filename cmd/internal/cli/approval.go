package cli

import (
	"cmp"
	"log/slog"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/policy/approval"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// newApproval is the call path's approval stage for cfg's approval: and
// the managed policy's. Out-of-band approvals wait in the record, where
// `mcpgw approvals` decides them; without a record, only the agent's
// elicitation can approve. A running gateway applies an edit with
// applyApproval.
func newApproval(cfg *config.Config, acc *access, record *gatewayRecord, known *guard.Known, logger *slog.Logger) (*approval.Stage, error) {
	st := &approval.Stage{Logger: logger}
	if record != nil {
		st.Store = record.db
	}
	if known != nil {
		st.Redact = func(b []byte) []byte {
			out, _ := known.Redact(b)
			return out
		}
	}
	if err := applyApproval(st, cfg, acc); err != nil {
		return nil, withCode(ExitConfig, err)
	}
	return st, nil
}

// applyApproval gives st the approval configuration in force: the user's
// rules and the managed policy's; the managed policy's channel and timeout
// where it sets them (an administrator can require out-of-band, since an
// agent's own client may answer elicitations).
func applyApproval(st *approval.Stage, cfg *config.Config, acc *access) error {
	return st.Update(approvalConfig(cfg, acc))
}

func approvalConfig(cfg *config.Config, acc *access) approval.Config {
	out := cfg.Approval
	var m *config.Managed
	if acc != nil {
		if s := acc.state.Load(); s != nil {
			m = s.managed
		}
	}
	if m == nil {
		return out
	}
	out.Channel = cmp.Or(m.Approval.Channel, out.Channel)
	out.Timeout = cmp.Or(m.Approval.Timeout, out.Timeout)
	out.Rules = append(append([]approval.Rule(nil), m.Approval.Rules...), out.Rules...)
	return out
}
