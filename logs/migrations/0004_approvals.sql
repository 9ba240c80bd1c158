-- Human approvals of risky calls, pending and decided.
-- Reserved for the coming approval feature: no code reads or writes it yet.
CREATE TABLE approvals (
	id        INTEGER PRIMARY KEY,
	created   INTEGER NOT NULL,
	pid       INTEGER NOT NULL DEFAULT 0,
	user      TEXT NOT NULL DEFAULT '',
	server    TEXT NOT NULL,
	tool      TEXT NOT NULL,
	args      TEXT NOT NULL DEFAULT '',   -- redacted
	state     TEXT NOT NULL,              -- pending, approved, denied, expired
	decided   INTEGER NOT NULL DEFAULT 0,
	decided_by TEXT NOT NULL DEFAULT '',
	reason    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approvals_state ON approvals (state, created);
