-- Who owns each status row and which process it names, so a later mcpgw can
-- tell a live gateway from a dead one (pids are reused: the start times
-- must match too) and sweep servers a dead gateway left behind.
ALTER TABLE server_status ADD COLUMN started INTEGER NOT NULL DEFAULT 0;        -- the gateway's process start time
ALTER TABLE server_status ADD COLUMN server_started INTEGER NOT NULL DEFAULT 0; -- the server's process start time
ALTER TABLE server_status ADD COLUMN agent TEXT NOT NULL DEFAULT '';            -- client name and version from initialize
ALTER TABLE server_status ADD COLUMN config TEXT NOT NULL DEFAULT '';           -- the gateway's config file
ALTER TABLE server_status ADD COLUMN since INTEGER NOT NULL DEFAULT 0;          -- when the server entered its state (unix µs)
