"""A client of an XML-RPC calculator (`add(a, b)`, `echo(value)`), e.g.
Python's `SimpleXMLRPCServer` with those two functions, at `--host`."""

from wasmload import User, context, task, users, xmlrpc


class Calculator(User):
    name = "calculator"

    @task(3)
    def add(self):
        a, b = context.random_range(0, 1000), context.random_range(0, 1000)
        total = xmlrpc.call("/RPC2", "add", a, b)
        assert total == a + b, f"wrong sum {total} for {a} + {b}"

    @task
    def echo(self):
        """Sends one value of every type and checks it comes back unchanged."""
        value = {
            "user": context.user_id(),
            "name": "<caf\u00e9 & tea>",
            "ratio": 0.25,
            "active": True,
            "when": xmlrpc.DateTime("20261125T12:30:00"),
            "blob": bytes([0, 1, 2, 255]),
            "nothing": None,
            "tags": ["a", "b"],
            "empty": [],
        }
        echoed = xmlrpc.call("/RPC2", "echo", value)
        assert echoed == value, f"echo changed the value: {echoed!r}"


Behaviour = users(Calculator)
