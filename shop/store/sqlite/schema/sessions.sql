-- The store keeps the SHA-256 of each session id, never the id itself.
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY,
    uid TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at REAL NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS sessions_uid ON sessions (uid);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
