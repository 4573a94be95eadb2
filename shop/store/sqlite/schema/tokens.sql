-- Personal API tokens. The store keeps the SHA-256 of each token, never the token itself.
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    uid TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    last_used REAL
) STRICT;
CREATE INDEX IF NOT EXISTS tokens_uid ON tokens (uid, id);
