// A shopper in a PostgreSQL shop: looks items up with a prepared statement
// and buys them in transactions. Every statement is an event of type
// `postgres`, recorded by the host; an item out of stock is the server's
// check violation (SQLSTATE 23514), and the buy is rolled back.
//
// Create the shop with guest-examples/rust/postgres-shop/schema.sql, then run
// with `--host postgres://user@127.0.0.1:5432/shop`; `-e WAIT_MS=N` sets the
// pause after each task (default 100).

import { constant, context, postgres, users } from "wasmload";

const ITEMS = 10;
const randomItem = () => context.randomRange(1, ITEMS + 1);

export const behaviour = users({
  name: "shopper",
  wait: () => constant(Number(context.param("WAIT_MS", "100")) / 1000),

  onStart() {
    this.db = postgres.connect();
    this.itemById = this.db.prepare({
      text: "SELECT name, price, stock FROM items WHERE id = $1",
      name: "item by id",
    });
  },

  tasks: {
    browse: {
      weight: 3,
      run() {
        const [item] = this.itemById.query([randomItem()]);
        if (!item || !item.name.startsWith("item ")) throw new Error(`no such item: ${JSON.stringify(item)}`);
        if (!item.price.includes(".")) throw new Error(`price is not numeric: ${item.price}`);
      },
    },
    buy() {
      const item = randomItem();
      this.db.transaction(() => {
        this.db.execute({ text: "UPDATE items SET stock = stock - 1 WHERE id = $1", name: "reserve" }, [item]);
        this.db.execute({ text: "INSERT INTO orders (item_id, user_id) VALUES ($1, $2)", name: "order" }, [
          item,
          context.userId(),
        ]);
      });
    },
  },
});
