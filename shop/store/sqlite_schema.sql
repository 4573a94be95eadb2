-- The embedded store's schema.
-- Every statement is idempotent, so opening an existing file (or two processes starting
-- at once) is safe. product_counts holds the listing totals, kept by triggers, so a total
-- is one key lookup instead of a count over the catalogue.

BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    price REAL NOT NULL,
    status INTEGER NOT NULL CHECK (status IN (0, 1)),
    stock INTEGER NOT NULL CHECK (stock >= 0),
    category TEXT NOT NULL,
    category_key TEXT NOT NULL,
    thumbnails TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS products_price ON products (price, id);
CREATE INDEX IF NOT EXISTS products_category_price ON products (category_key, price, id);
CREATE INDEX IF NOT EXISTS products_status_price ON products (status, price, id);
-- Unsorted filtered listings go in creation order; these keep them off a full sort.
CREATE INDEX IF NOT EXISTS products_category ON products (category_key, id);
CREATE INDEX IF NOT EXISTS products_status ON products (status, id);

CREATE TABLE IF NOT EXISTS product_counts (
    key TEXT PRIMARY KEY,
    n INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO product_counts (key, n) VALUES ('all', 0), ('available', 0);
CREATE TRIGGER IF NOT EXISTS products_counted_insert AFTER INSERT ON products BEGIN
    UPDATE product_counts SET n = n + 1 WHERE key = 'all';
    UPDATE product_counts SET n = n + NEW.status WHERE key = 'available';
    INSERT INTO product_counts (key, n) VALUES ('category:' || NEW.category_key, 1)
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS products_counted_delete AFTER DELETE ON products BEGIN
    UPDATE product_counts SET n = n - 1 WHERE key = 'all';
    UPDATE product_counts SET n = n - OLD.status WHERE key = 'available';
    UPDATE product_counts SET n = n - 1 WHERE key = 'category:' || OLD.category_key;
    DELETE FROM product_counts WHERE key = 'category:' || OLD.category_key AND n = 0;
END;
CREATE TRIGGER IF NOT EXISTS products_counted_update AFTER UPDATE OF status, category_key
ON products WHEN OLD.status IS NOT NEW.status OR OLD.category_key IS NOT NEW.category_key
BEGIN
    UPDATE product_counts SET n = n + NEW.status - OLD.status WHERE key = 'available';
    UPDATE product_counts SET n = n - 1 WHERE key = 'category:' || OLD.category_key;
    DELETE FROM product_counts WHERE key = 'category:' || OLD.category_key AND n = 0;
    INSERT INTO product_counts (key, n) VALUES ('category:' || NEW.category_key, 1)
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
END;

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

CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY,
    uid TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at REAL NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS sessions_uid ON sessions (uid);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);

CREATE TABLE IF NOT EXISTS carts (
    id TEXT PRIMARY KEY,
    owner TEXT REFERENCES users (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX IF NOT EXISTS carts_owner ON carts (owner);

CREATE TABLE IF NOT EXISTS cart_lines (
    cart_id TEXT NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    quantity INTEGER NOT NULL CHECK (quantity >= 1),
    seq INTEGER NOT NULL,
    PRIMARY KEY (cart_id, product_id)
) STRICT, WITHOUT ROWID;
-- Deleting a product cascades to its lines; without this it would scan every line.
CREATE INDEX IF NOT EXISTS cart_lines_product ON cart_lines (product_id);
COMMIT;
