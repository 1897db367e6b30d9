-- The shop postgres-shop shops in: psql -f schema.sql postgres://...
DROP TABLE IF EXISTS orders, items;
CREATE TABLE items (
    id    integer PRIMARY KEY,
    name  text NOT NULL,
    price numeric(10, 2) NOT NULL,
    -- Running out is the server's error (SQLSTATE 23514), not the user's check.
    stock integer NOT NULL CHECK (stock >= 0)
);
CREATE TABLE orders (
    id      serial PRIMARY KEY,
    item_id integer NOT NULL REFERENCES items (id),
    user_id bigint NOT NULL
);
INSERT INTO items (id, name, price, stock)
SELECT n, 'item ' || n, n * 1.25, 1000 FROM generate_series(1, 10) AS n;
