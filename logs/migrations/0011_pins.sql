-- Pinning (the rug-pull defence) replaces the reserved pins table of 0005,
-- which nothing wrote. One row per server and tool (tool '' pins the
-- server's launch spec). Times are Unix microseconds.
DROP TABLE IF EXISTS pins;
CREATE TABLE pins (
	server       TEXT NOT NULL,
	tool         TEXT NOT NULL,
	exposed      TEXT NOT NULL DEFAULT '', -- the tool's name as agents saw it
	hash         TEXT NOT NULL,            -- sha256 of def; '' when nothing is approved yet
	def          TEXT NOT NULL,            -- the canonical definition pinned
	seen_hash    TEXT NOT NULL DEFAULT '', -- the definition last seen, when it differs
	seen_def     TEXT NOT NULL DEFAULT '',
	pinned       INTEGER NOT NULL,
	is_new       INTEGER NOT NULL DEFAULT 0, -- the server had pins when this one was first seen
	renamed_from TEXT NOT NULL DEFAULT '',
	flags        TEXT NOT NULL DEFAULT '',   -- hidden-instruction markers, JSON array
	updated      INTEGER NOT NULL,           -- when any process last changed the row
	PRIMARY KEY (server, tool)
);
