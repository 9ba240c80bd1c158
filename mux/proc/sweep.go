package proc

import (
	"github.com/mcpgw/mcpgw/logs"
)

// GatewayAlive reports whether the gateway process behind status rows
// still runs: its pid exists and, where the OS tells start times, it is
// the same process (pids are reused).
func GatewayAlive(gw logs.Gateway) bool {
	if gw.Started != 0 {
		return StartTime(gw.PID) == gw.Started
	}
	return pidExists(gw.PID)
}

// Sweep is what [SweepLeftovers] found and did.
type Sweep struct {
	// Dead lists the gateways that no longer run; their rows can go.
	Dead []logs.Gateway
	// Killed lists the servers they left running, now killed.
	Killed []logs.ServerStatus
}

// SweepLeftovers kills the servers that dead gateways left behind. A
// server is killed (with its process group) only when its gateway is gone
// and the process with its pid is still the one recorded, by start time:
// another mcpgw's servers, and a process that merely reuses a pid, are
// never touched. On systems that do not tell start times, nothing is killed.
//
// The supervisor (see [SupervisorMain]) normally takes a server down with
// its gateway; this catches what escapes it, such as a SIGKILL sent to a
// whole process group at once.
func SweepLeftovers(rows []logs.ServerStatus) Sweep {
	var s Sweep
	alive := map[int]bool{}
	for _, r := range rows {
		a, seen := alive[r.Gateway.PID]
		if !seen {
			a = GatewayAlive(r.Gateway)
			alive[r.Gateway.PID] = a
			if !a {
				s.Dead = append(s.Dead, r.Gateway)
			}
		}
		if a || r.ServerPID <= 0 || r.ServerStarted == 0 {
			continue
		}
		if StartTime(r.ServerPID) == r.ServerStarted {
			killGroup(r.ServerPID)
			s.Killed = append(s.Killed, r)
		}
	}
	return s
}
