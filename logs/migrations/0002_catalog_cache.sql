-- The last good catalog of each server, so tools/list can answer before
-- servers are up. fingerprint identifies the launch spec it came from.
CREATE TABLE catalog_cache (
	server      TEXT PRIMARY KEY,
	fingerprint TEXT NOT NULL,
	catalog     TEXT NOT NULL,   -- JSON: tools, prompts, resources, templates
	updated     INTEGER NOT NULL
);
