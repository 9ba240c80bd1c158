// Package mux owns the gateway itself: it runs or connects to downstream MCP
// servers, merges their tools, prompts and resources into one catalog, routes
// each request to the server that owns it, and relays everything the servers
// and the agent say to each other (progress, cancellation, logging, list
// changes, elicitation, sampling, roots) as if they spoke directly.
//
// go-sdk types stay inside this package; the domain packages (policy, logs,
// keystore) plug into the call path through the small [Stage] interface.
// The stdio servers' processes (spawning, supervising their trees, their
// stdout and stderr) are package proc's, which knows nothing of MCP.
package mux
