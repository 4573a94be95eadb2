CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    age INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    cart TEXT,
    password_hash TEXT NOT NULL
) STRICT;
-- The admins alone, so "is there another admin?" is a lookup, not a scan.
CREATE INDEX IF NOT EXISTS users_admins ON users (id) WHERE role = 'admin';
