"""A shopper of the demo shop (`demo-target`): logs in once, then browses
pages, views items (checking what comes back) and opens the cart.

Parameters: `-e WAIT_MS=min-max` (default 500-1500).
"""

from wasmload import User, between, context, http, rest, tag, task, users


def wait_from_param():
    low, _, high = context.param("WAIT_MS", "500-1500").partition("-")
    return between(int(low) / 1000, int(high or low) / 1000)


class Shopper(User):
    name = "shopper"
    wait_time = wait_from_param

    def on_start(self):
        login = {"username": f"user{context.user_id()}", "password": "secret"}
        response = http.post("/login", json=login).expect_status(200)
        self.token = response.json()["token"]

    @task(3)
    @tag("browse")
    def browse(self):
        """A page of the catalogue; every page is grouped under `/items`."""
        http.get(f"/items?page={context.random_range(1, 6)}")

    @task(2)
    @tag("browse")
    def view_item(self):
        """One item, checked: the right id, and in stock (else a failure)."""
        item_id = context.random_range(1, 1001)
        with rest("GET", f"/items/{item_id}", name="/items/[id]") as response:
            if response.js["id"] != item_id:
                response.failure("wrong item returned")
            elif response.js["in_stock"] is not True:
                response.failure("out of stock")

    @task
    @tag("cart")
    def cart(self):
        """The cart needs the session cookie set at login."""
        http.get("/cart", headers={"authorization": f"Bearer {self.token}"}).expect_status(200)


Behaviour = users(Shopper)
