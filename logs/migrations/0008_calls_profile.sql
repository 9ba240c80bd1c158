-- The agent profile a call's session ran under (config profiles:).
ALTER TABLE calls ADD COLUMN profile TEXT NOT NULL DEFAULT '';
