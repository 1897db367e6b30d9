"""Write wasmload virtual users in Python, the way Locust users read.

    from wasmload import User, task, between, http, users

    class Shopper(User):
        wait_time = between(0.5, 1.5)

        @task(3)
        def browse(self):
            http.get("/items")

    Behaviour = users(Shopper)

Build with componentize-py against wasmload's WIT (see README).
"""

import sys

from . import context, events, grpc, http, mqtt, postgres, tcp, udp, websocket, xmlrpc
from .errors import CheckFailed, WasmloadError
from .http import rest
from .shape import Rate, Shape, Stop, Users
from .user import (
    User,
    between,
    constant,
    constant_pacing,
    constant_throughput,
    no_wait,
    tag,
    task,
    users,
)

sys.stdout = context._LogWriter("info")
sys.stderr = context._LogWriter("warn")

__all__ = [
    "CheckFailed",
    "Rate",
    "Shape",
    "Stop",
    "User",
    "Users",
    "WasmloadError",
    "between",
    "constant",
    "constant_pacing",
    "constant_throughput",
    "context",
    "events",
    "grpc",
    "http",
    "mqtt",
    "no_wait",
    "postgres",
    "rest",
    "tag",
    "task",
    "tcp",
    "udp",
    "users",
    "websocket",
    "xmlrpc",
]
