// Package logs owns mcpgw's record: a local SQLite database (modernc.org/sqlite)
// holding one row per call and the small state other stages keep (catalog
// cache, server status), and the HTTP front's bearer tokens (hashed; see
// [DB.CreateToken], and [TokenChecker] for checking them per request). It opens and migrates the database ([Open]), writes
// calls off the call path ([Recorder]), and answers the queries behind
// `mcpgw logs`.
//
// Pinned tool definitions live in the pins table (migration 0011, which
// replaces the reserved table of 0005; see pins.go and package policy/pin).
// Approvals of held calls live in the approvals table (migration 0004,
// with the columns of 0012; see approvals.go and package policy/approval),
// where `mcpgw approvals` in another process decides them.
package logs
