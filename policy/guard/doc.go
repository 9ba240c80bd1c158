// Package guard owns content checks on the call path: detectors and
// redaction.
//
// Today it holds [Known], which redacts the secret values mcpgw resolved
// from ${secret:NAME} references and injected into MCP servers, so a server
// that echoes its environment or headers back toward the agent never leaks
// one; and [StoredSecrets], the call path's stage (see package
// mux/callpath) that blocks a call whose arguments carry one of them.
//
// [SchemaCheck] is the stage that checks a tool call's arguments against
// the tool's inputSchema (schema*.go).
package guard
