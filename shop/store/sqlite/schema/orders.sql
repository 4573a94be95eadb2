-- Orders outlive their buyer and their products: no foreign key to either. The buyer's id
-- and email stay on the order; each line keeps the product's id, title, code and price as
-- they were at the purchase.
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    purchased_at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    purchaser TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('placed', 'paid', 'shipped', 'delivered', 'cancelled'))
) STRICT;
-- A user's orders, all orders, and either filtered by status: newest first, by index.
CREATE INDEX IF NOT EXISTS orders_user ON orders (user_id, id);
CREATE INDEX IF NOT EXISTS orders_user_status ON orders (user_id, status, id);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status, id);
-- The back office: a buyer's orders by the email the order keeps (the account may be gone),
-- and sales by purchase time (UTC ISO 8601 text, which sorts as time does), covering.
CREATE INDEX IF NOT EXISTS orders_purchaser ON orders (purchaser, id);
CREATE INDEX IF NOT EXISTS orders_purchased_at ON orders (purchased_at, status, id);

CREATE TABLE IF NOT EXISTS order_lines (
    order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    title TEXT NOT NULL,
    code TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    quantity INTEGER NOT NULL CHECK (quantity >= 1),
    PRIMARY KEY (order_id, seq)
) STRICT, WITHOUT ROWID;

-- Each purchase's Idempotency-Key (per user) with the outcome it answered, as JSON; purged
-- a day after first use.
CREATE TABLE IF NOT EXISTS purchase_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (user_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS purchase_keys_created_at ON purchase_keys (created_at);
