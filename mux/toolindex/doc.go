// Package toolindex owns the full-text index of the catalog's tools that
// search mode answers mcpgw__search_tools from: one SQLite FTS5 table in
// memory (nothing touches the record), ranked with BM25 over each tool's
// name split into words, its server, its description and its parameters.
//
// The index knows nothing of sessions or policy: [Index.Search] takes the
// caller's view as a filter, so a tool the caller may not see is never a
// result, and the index itself is shared by every session.
package toolindex
