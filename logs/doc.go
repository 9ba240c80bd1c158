// Package logs owns mcpgw's record: a local SQLite database (modernc.org/sqlite)
// holding one row per call and the small state other stages keep (catalog
// cache, server status), and the HTTP front's bearer tokens (hashed; see
// [DB.CreateToken], and [TokenChecker] for checking them per request). It opens and migrates the database ([Open]), writes
// calls off the call path ([Recorder]), and answers the queries behind
// `mcpgw logs`.
//
// The schema also has approvals and pins tables (migrations 0004 and 0005),
// reserved for the coming approval and pinning features: no code reads or
// writes them yet.
package logs
