CREATE TABLE IF NOT EXISTS carts (
    id TEXT PRIMARY KEY,
    owner TEXT REFERENCES users (id) ON DELETE CASCADE,
    version INTEGER NOT NULL DEFAULT 0
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
-- Every change of a cart's lines bumps the cart's version, in write order (see products).
CREATE TRIGGER IF NOT EXISTS cart_lines_versioned_insert AFTER INSERT ON cart_lines BEGIN
    UPDATE carts SET version = version + 1 WHERE id = NEW.cart_id;
END;
CREATE TRIGGER IF NOT EXISTS cart_lines_versioned_update AFTER UPDATE ON cart_lines BEGIN
    UPDATE carts SET version = version + 1 WHERE id = NEW.cart_id;
END;
CREATE TRIGGER IF NOT EXISTS cart_lines_versioned_delete AFTER DELETE ON cart_lines BEGIN
    UPDATE carts SET version = version + 1 WHERE id = OLD.cart_id;
END;
