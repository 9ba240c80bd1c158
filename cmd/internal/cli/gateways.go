package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// gatewayStatus is one `mcpgw serve` process as its status rows in the
// record show it.
type gatewayStatus struct {
	PID     int                 `json:"pid"`
	Agent   string              `json:"agent,omitempty"`
	Config  string              `json:"config,omitempty"`
	Alive   bool                `json:"alive"` // false: it died without removing its rows
	Updated time.Time           `json:"updated"`
	Servers []gatewayServerInfo `json:"servers"`
}

// gatewayServerInfo is one server as a running gateway sees it.
type gatewayServerInfo struct {
	Server    string    `json:"server"`
	State     string    `json:"state"`
	Since     time.Time `json:"since,omitzero"`
	PID       int       `json:"pid,omitempty"`
	Restarts  int       `json:"restarts"`
	LastError string    `json:"lastError,omitempty"`
	Stderr    []string  `json:"stderr,omitempty"`
}

// runningGateways reads what every `mcpgw serve` writing the record at path
// sees of its servers; none when there is no record yet.
func runningGateways(ctx context.Context, path string) ([]gatewayStatus, error) {
	ok, err := recordExists(path)
	if err != nil || !ok {
		return nil, err
	}
	db, err := openRecord(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.ServerStatuses(ctx)
	if err != nil {
		return nil, err
	}
	return groupGateways(rows, proc.GatewayAlive), nil
}

// groupGateways groups status rows by gateway, in pid order.
func groupGateways(rows []logs.ServerStatus, alive func(logs.Gateway) bool) []gatewayStatus {
	var out []gatewayStatus
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].PID != r.Gateway.PID {
			out = append(out, gatewayStatus{PID: r.Gateway.PID, Agent: r.Gateway.Agent, Config: r.Gateway.Config, Alive: alive(r.Gateway)})
		}
		g := &out[len(out)-1]
		if r.Updated.After(g.Updated) {
			g.Updated = r.Updated
		}
		g.Servers = append(g.Servers, gatewayServerInfo{
			Server: r.Server, State: r.State, Since: r.Since, PID: r.ServerPID,
			Restarts: r.Restarts, LastError: r.LastError, Stderr: r.Stderr,
		})
	}
	return out
}

// title names a gateway in one line: pid, agent, config.
func (g gatewayStatus) title() string {
	parts := []string{fmt.Sprintf("pid %d", g.PID)}
	if g.Agent != "" {
		parts = append(parts, g.Agent)
	}
	if g.Config != "" {
		parts = append(parts, g.Config)
	}
	return strings.Join(parts, ", ")
}

// summary is the servers' states in one line: "fs ready, mem failed (3 restarts)".
func (g gatewayStatus) summary() string {
	var parts []string
	for _, s := range g.Servers {
		p := s.Server + " " + s.State
		if s.Restarts > 0 {
			p += fmt.Sprintf(" (%d restarts)", s.Restarts)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "no servers"
	}
	return strings.Join(parts, ", ")
}

// problem describes a server that is not working, with its last words.
func (s gatewayServerInfo) problem() string {
	msg := s.State
	if s.Restarts > 0 {
		msg += fmt.Sprintf(" after %d restarts", s.Restarts)
	}
	if s.LastError != "" {
		msg += ": " + s.LastError
	}
	if len(s.Stderr) > 0 && !strings.Contains(s.LastError, "last stderr") {
		tail := s.Stderr
		if len(tail) > 3 {
			tail = tail[len(tail)-3:]
		}
		msg += "; last stderr: " + strings.Join(tail, " | ")
	}
	return msg
}
