package cli

import (
	"log/slog"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/policy/limits"
)

// newLimits is the call path's rate-limit stage for cfg's limits:. Its
// token buckets live in the record database when there is one, so a limit
// holds across every mcpgw process of the user (serve, call) writing that
// record; without a record, in this process. When the database fails, a
// call is checked against buckets in this process instead, and the failure
// logged. A running gateway applies an edited limits: with Update.
func newLimits(cfg *config.Config, record *gatewayRecord, logger *slog.Logger) *limits.Stage {
	mem := &limits.Memory{}
	s := &limits.Stage{Store: mem, Fallback: mem}
	if record != nil {
		s.Store = record.db
	}
	s.OnError = func(err error) {
		logger.Warn("rate limits checked in this process only for this call: the record's buckets could not be used", "err", err)
	}
	s.Update(cfg.Limits)
	return s
}
