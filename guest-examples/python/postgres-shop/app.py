"""A shopper in a PostgreSQL shop, written as psycopg code reads: looks
items up and buys them in transactions. Every statement is an event of
type `postgres`, recorded by the host; an item out of stock is the server's
check violation (SQLSTATE 23514), and the buy is rolled back.

Create the shop with guest-examples/rust/postgres-shop/schema.sql, then run
with `--host postgres://user@127.0.0.1:5432/shop`; `-e WAIT_MS=N` sets the
pause after each task (default 100).
"""

from wasmload import User, constant, context, postgres, task, users

ITEMS = 10


class Shopper(User):
    name = "shopper"

    @staticmethod
    def wait_time():
        return constant(int(context.param("WAIT_MS", "100")) / 1000)

    def on_start(self):
        self.db = postgres.connect()
        self.db.autocommit = True

    @task(3)
    def browse(self):
        cur = self.db.cursor()
        cur.execute(
            "SELECT name, price, stock FROM items WHERE id = %s",
            (context.random_range(1, ITEMS + 1),),
            name="item by id",
        )
        name, price, _stock = cur.fetchone()
        assert name.startswith("item "), f"item has no name: {name!r}"
        assert "." in price, f"price is not numeric: {price!r}"

    @task
    def buy(self):
        item = context.random_range(1, ITEMS + 1)
        cur = self.db.cursor()
        with self.db.transaction():
            cur.execute("UPDATE items SET stock = stock - 1 WHERE id = %s", (item,), name="reserve")
            cur.execute(
                "INSERT INTO orders (item_id, user_id) VALUES (%s, %s)",
                (item, context.user_id()),
                name="order",
            )


Behaviour = users(Shopper)
