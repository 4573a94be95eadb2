-- Products. Prices are integer cents. title_key is the title as it sorts (accents and case
-- ignored); product_words holds each product's normalised words, so a search looks its
-- prefixes up in an index (shop.models.search says what a word is).
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    status INTEGER NOT NULL CHECK (status IN (0, 1)),
    stock INTEGER NOT NULL CHECK (stock >= 0),
    category TEXT NOT NULL,
    category_key TEXT NOT NULL,
    thumbnails TEXT NOT NULL,
    title_key TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX IF NOT EXISTS products_price ON products (price_cents, id);
CREATE INDEX IF NOT EXISTS products_category_price ON products (category_key, price_cents, id);
CREATE INDEX IF NOT EXISTS products_status_price ON products (status, price_cents, id);
CREATE INDEX IF NOT EXISTS products_title ON products (title_key, id);
CREATE INDEX IF NOT EXISTS products_status_title ON products (status, title_key, id);
CREATE INDEX IF NOT EXISTS products_stock ON products (stock, id);
-- Unsorted filtered listings go in creation order; these keep them off a full sort.
CREATE INDEX IF NOT EXISTS products_category ON products (category_key, id);
CREATE INDEX IF NOT EXISTS products_status ON products (status, id);

CREATE TABLE IF NOT EXISTS product_words (
    word TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    PRIMARY KEY (word, product_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS product_words_product ON product_words (product_id);

-- Listing totals, kept by triggers, so a total is one key lookup instead of a count over
-- the catalogue: 'all', 'visible' (status on), 'available' (on sale and in stock),
-- 'category:<key>' and 'visible:category:<key>'.
CREATE TABLE IF NOT EXISTS product_counts (
    key TEXT PRIMARY KEY,
    n INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO product_counts (key, n) VALUES ('all', 0), ('visible', 0), ('available', 0);
CREATE TRIGGER IF NOT EXISTS products_counted_insert AFTER INSERT ON products BEGIN
    UPDATE product_counts SET n = n + 1 WHERE key = 'all';
    UPDATE product_counts SET n = n + NEW.status WHERE key = 'visible';
    UPDATE product_counts SET n = n + (NEW.status AND NEW.stock > 0) WHERE key = 'available';
    INSERT INTO product_counts (key, n) VALUES ('category:' || NEW.category_key, 1)
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
    INSERT INTO product_counts (key, n) VALUES ('visible:category:' || NEW.category_key, NEW.status)
        ON CONFLICT (key) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER IF NOT EXISTS products_counted_delete AFTER DELETE ON products BEGIN
    UPDATE product_counts SET n = n - 1 WHERE key = 'all';
    UPDATE product_counts SET n = n - OLD.status WHERE key = 'visible';
    UPDATE product_counts SET n = n - (OLD.status AND OLD.stock > 0) WHERE key = 'available';
    UPDATE product_counts SET n = n - 1 WHERE key = 'category:' || OLD.category_key;
    UPDATE product_counts SET n = n - OLD.status WHERE key = 'visible:category:' || OLD.category_key;
    DELETE FROM product_counts WHERE n = 0
        AND key IN ('category:' || OLD.category_key, 'visible:category:' || OLD.category_key);
END;
-- A purchase changes stock on the hot path: the WHEN clause skips the counters unless the
-- product starts or stops being available.
CREATE TRIGGER IF NOT EXISTS products_counted_update AFTER UPDATE OF status, stock, category_key
ON products WHEN OLD.status IS NOT NEW.status OR OLD.category_key IS NOT NEW.category_key
    OR (OLD.stock > 0) IS NOT (NEW.stock > 0)
BEGIN
    UPDATE product_counts SET n = n + NEW.status - OLD.status WHERE key = 'visible';
    UPDATE product_counts SET n = n + (NEW.status AND NEW.stock > 0) - (OLD.status AND OLD.stock > 0)
        WHERE key = 'available';
    UPDATE product_counts SET n = n - 1 WHERE key = 'category:' || OLD.category_key;
    UPDATE product_counts SET n = n - OLD.status WHERE key = 'visible:category:' || OLD.category_key;
    INSERT INTO product_counts (key, n) VALUES ('category:' || NEW.category_key, 1)
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
    INSERT INTO product_counts (key, n) VALUES ('visible:category:' || NEW.category_key, NEW.status)
        ON CONFLICT (key) DO UPDATE SET n = n + excluded.n;
    DELETE FROM product_counts WHERE n = 0
        AND key IN ('category:' || OLD.category_key, 'visible:category:' || OLD.category_key);
END;
-- Every write of a product bumps its version, in write order (live events carry it, so a
-- page never shows an older state after a newer one). The shop's own UPDATEs bump it
-- themselves, so their RETURNING shows it; this covers any UPDATE that does not.
CREATE TRIGGER IF NOT EXISTS products_versioned AFTER UPDATE ON products
WHEN NEW.version = OLD.version
BEGIN
    UPDATE products SET version = OLD.version + 1 WHERE id = NEW.id;
END;
