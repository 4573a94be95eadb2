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
