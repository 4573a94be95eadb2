-- Failed attempts per key in fixed windows (shop.store.throttle); purged once reset_at passes.
CREATE TABLE IF NOT EXISTS throttle (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    reset_at REAL NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS throttle_reset_at ON throttle (reset_at);
