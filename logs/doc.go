// Package logs owns mcpgw's record: a local SQLite database (modernc.org/sqlite)
// holding one row per call and the small state other stages keep (catalog
// cache, server status, approvals, pins). It opens and migrates the database
// ([Open]), writes calls off the call path ([Recorder]), and answers the
// queries behind `mcpgw logs`.
package logs
