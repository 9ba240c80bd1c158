// Package proc runs mcpgw's stdio MCP servers as processes, and owns
// everything about them that has nothing to do with MCP:
//
//   - spawning a server ([Start]) with its pipes, and stopping it
//     ([Process.Close]): stdin closed, a grace period, SIGTERM, then its
//     whole tree killed;
//   - supervising its process tree, per OS, so that the tree dies with
//     mcpgw however mcpgw dies: on Linux a supervisor (mcpgw re-executed,
//     see [SupervisorMain]) that is a child subreaper and learns of mcpgw's
//     death from a lifeline pipe; on macOS and the BSDs a supervisor that
//     watches mcpgw with kqueue besides the lifeline and walks the process
//     table; on Windows a Job Object that Windows kills with mcpgw;
//   - filtering its stdout to JSON lines under a line limit, a longer
//     response replaced by an error for its call alone
//     ([Process.Output]);
//   - keeping its last stderr lines ([Process.StderrTail]);
//   - the minimal environment it inherits from mcpgw;
//   - finding its command ([LookCommand]), in the login shell's PATH too,
//     which desktop agents do not pass on;
//   - the startup sweep of servers that dead gateways left behind
//     ([SweepLeftovers]), by pid and start time ([StartTime]);
//   - releasing the executable's pages once a process idles
//     ([ReleaseExecutablePages]), which supervisors do too.
//
// It knows nothing of the gateway, and reads no configuration: its callers
// say what they want in a [Spec]. The only variables it reads are the
// handshake between mcpgw and its own re-execution as a supervisor, and
// PATH and SHELL, which are what looking a command up means.
package proc
