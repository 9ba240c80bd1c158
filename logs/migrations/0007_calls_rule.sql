-- The rule or detector behind a call's decision (a stage's Verdict.Rule).
ALTER TABLE calls ADD COLUMN rule TEXT NOT NULL DEFAULT '';
