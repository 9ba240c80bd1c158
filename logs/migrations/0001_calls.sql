-- One row per recorded request. Times are unix microseconds (UTC).
CREATE TABLE calls (
	id            INTEGER PRIMARY KEY,
	ts            INTEGER NOT NULL,
	pid           INTEGER NOT NULL DEFAULT 0,
	session       TEXT NOT NULL DEFAULT '',
	agent         TEXT NOT NULL DEFAULT '',
	agent_version TEXT NOT NULL DEFAULT '',
	user          TEXT NOT NULL DEFAULT '',
	team          TEXT NOT NULL DEFAULT '',
	roles         TEXT NOT NULL DEFAULT '',   -- comma-separated
	method        TEXT NOT NULL,
	server        TEXT NOT NULL DEFAULT '',
	tool          TEXT NOT NULL DEFAULT '',
	tool_original TEXT NOT NULL DEFAULT '',
	args          TEXT NOT NULL DEFAULT '',
	args_size     INTEGER NOT NULL DEFAULT 0,
	args_hash     TEXT NOT NULL DEFAULT '',
	result        TEXT NOT NULL DEFAULT '',
	result_size   INTEGER NOT NULL DEFAULT 0,
	result_hash   TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	error         TEXT NOT NULL DEFAULT '',
	latency_us    INTEGER NOT NULL DEFAULT 0,
	bytes_in      INTEGER NOT NULL DEFAULT 0,
	bytes_out     INTEGER NOT NULL DEFAULT 0,
	decision      TEXT NOT NULL DEFAULT '',
	reason        TEXT NOT NULL DEFAULT '',
	findings      TEXT NOT NULL DEFAULT ''    -- JSON array of {rule, path}
);
CREATE INDEX calls_ts ON calls (ts);
CREATE INDEX calls_server_ts ON calls (server, ts);
CREATE INDEX calls_status_ts ON calls (status, ts);

-- Records a process could not write (queue full, disk failing), counted per
-- process so `mcpgw logs stats` can report them.
CREATE TABLE dropped (
	pid     INTEGER NOT NULL,
	started INTEGER NOT NULL,   -- the process's start, unix microseconds
	count   INTEGER NOT NULL,
	last    INTEGER NOT NULL,   -- last drop, unix microseconds
	reason  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (pid, started)
);
