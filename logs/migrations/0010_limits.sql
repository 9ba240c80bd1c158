-- Rate limits' token buckets (limits: in the config), shared by every
-- mcpgw process writing this record. bucket names the limit's definition
-- and the caller's key; tokens is what the bucket held at updated (Unix
-- microseconds), refilled from there at the limit's rate when next read.
CREATE TABLE limits (
	bucket  TEXT PRIMARY KEY,
	tokens  REAL NOT NULL,
	updated INTEGER NOT NULL
) WITHOUT ROWID;
