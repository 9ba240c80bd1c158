package cli

import (
	"log/slog"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// newSchemaCheck is the call path's check of tool arguments against each
// tool's inputSchema, in cfg's guardrails.schema mode. It is in the call
// path even when off, so a running gateway can turn it on with SetMode
// when the configuration is edited; off, it costs a call one load.
func newSchemaCheck(cfg *config.Config, logger *slog.Logger) *guard.SchemaCheck {
	return guard.NewSchemaCheck(&guard.SchemaCheckOptions{Mode: guard.SchemaMode(cfg.Guardrails.SchemaMode()), Logger: logger})
}
