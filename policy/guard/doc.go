// Package guard owns content checks on the call path: detectors and
// redaction.
//
// [Known] redacts the secret values mcpgw resolved from ${secret:NAME}
// references and injected into MCP servers, so a server that echoes its
// environment or headers back toward the agent never leaks one; and
// [StoredSecrets], the call path's stage (see package mux/callpath) that
// blocks a call whose arguments carry one of them.
//
// [Guard] is the guardrails stage: guard-in scans what goes to a server,
// guard-out what comes back, with the [Detector]s [Secrets] (gitleaks' rule
// set, read in the background) and [PII] (validated patterns), and
// blocks, redacts or warns as its [Config] says per detector and phase. A
// [Scanner] walks a JSON payload, JSON inside strings included, and reports
// each [Finding] by rule, JSON path and span, never by value, within a size
// and time budget. [RecordRedactor] masks the same findings in what the
// record stores.
//
// [SchemaCheck] is the stage that checks a tool call's arguments against
// the tool's inputSchema (schema*.go).
package guard
