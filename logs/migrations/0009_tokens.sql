-- Bearer tokens of the HTTP front (mcpgw token create): who a caller is.
-- Only a token's SHA-256 is kept; the token itself is shown once, at
-- creation. Times are Unix microseconds; 0 means never (expires) or not
-- yet (revoked).
CREATE TABLE tokens (
	id      TEXT PRIMARY KEY,
	hash    TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the whole token
	name    TEXT NOT NULL DEFAULT '',
	user    TEXT NOT NULL,
	team    TEXT NOT NULL DEFAULT '',
	roles   TEXT NOT NULL DEFAULT '', -- comma-separated
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL DEFAULT 0,
	revoked INTEGER NOT NULL DEFAULT 0
);
