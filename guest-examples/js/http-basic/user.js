// A shopper of the demo shop (`demo-target`): logs in once, then browses
// pages, views items (checking what comes back) and opens the cart.
//
// Parameters: `-e WAIT_MS=min-max` (default 500-1500).

import { between, context, http, rest, users } from "wasmload";

function waitFromParam() {
  const [low, high = low] = context.param("WAIT_MS", "500-1500").split("-").map(Number);
  return between(low / 1000, high / 1000);
}

export const behaviour = users({
  name: "shopper",
  wait: waitFromParam,

  onStart() {
    const login = { username: `user${context.userId()}`, password: "secret" };
    this.token = http.post("/login", { json: login }).expectStatus(200).json().token;
  },

  tasks: {
    // A page of the catalogue; every page is grouped under `/items`.
    browse: {
      weight: 3,
      tags: ["browse"],
      run() {
        http.get(`/items?page=${context.randomRange(1, 6)}`);
      },
    },

    // One item, checked: the right id, and in stock (else a failure).
    "view item": {
      weight: 2,
      tags: ["browse"],
      run() {
        const id = context.randomRange(1, 1001);
        rest("GET", `/items/${id}`, { name: "/items/[id]" }, (response) => {
          if (response.js.id !== id) throw new Error("wrong item returned");
          if (response.js.in_stock !== true) response.failure("out of stock");
        });
      },
    },

    // The cart needs the session cookie set at login.
    cart: {
      tags: ["cart"],
      run() {
        http.get("/cart", { headers: { authorization: `Bearer ${this.token}` } }).expectStatus(200);
      },
    },
  },
});
