-- Approvals in use (policy/approval): what the person was asked about and
-- how, and what the decision covers. Times are Unix microseconds.
ALTER TABLE approvals ADD COLUMN session   TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN exposed   TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN args_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN rule      TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN channel   TEXT NOT NULL DEFAULT '';   -- elicitation, out-of-band
ALTER TABLE approvals ADD COLUMN scope     TEXT NOT NULL DEFAULT '';   -- once, session, args
ALTER TABLE approvals ADD COLUMN expires   INTEGER NOT NULL DEFAULT 0; -- scope args: until when
CREATE INDEX approvals_grant ON approvals (args_hash, state, expires);
