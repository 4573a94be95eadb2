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

-- Each account's normalised words (names and email parts: shop.models.search.user_words),
-- so the back office's search looks prefixes up in an index instead of scanning accounts.
CREATE TABLE IF NOT EXISTS user_words (
    word TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (word, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS user_words_user ON user_words (user_id);
