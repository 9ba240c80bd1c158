-- Tool definitions pinned by hash, so a silent change is caught.
-- Reserved for the coming pinning feature: no code reads or writes it yet.
CREATE TABLE pins (
	server  TEXT NOT NULL,
	tool    TEXT NOT NULL,
	hash    TEXT NOT NULL,   -- sha256 of the canonical definition
	def     TEXT NOT NULL,   -- the definition pinned
	pinned  INTEGER NOT NULL,
	PRIMARY KEY (server, tool)
);
