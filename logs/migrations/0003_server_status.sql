-- What each running `mcpgw serve` sees of its servers, for `mcpgw tools`
-- and `mcpgw doctor` in other processes.
CREATE TABLE server_status (
	pid        INTEGER NOT NULL,
	server     TEXT NOT NULL,
	state      TEXT NOT NULL,
	server_pid INTEGER NOT NULL DEFAULT 0,
	restarts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	stderr     TEXT NOT NULL DEFAULT '',   -- last stderr lines, redacted
	updated    INTEGER NOT NULL,
	PRIMARY KEY (pid, server)
);
