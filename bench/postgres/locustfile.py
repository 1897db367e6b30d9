"""The same user in Locust with psycopg2 (the seed's case): psycopg2 is C
that gevent cannot patch, so each query blocks the whole Locust process."""

import os
import random
import time

import psycopg2
from locust import User, events, task

ITEMS = 1000


class Reader(User):
    def on_start(self):
        self.db = psycopg2.connect(os.environ["DATABASE_URL"])
        self.db.autocommit = True
        self.server_s = int(os.environ.get("QUERY_MS", "0")) / 1000

    @task
    def lookup(self):
        started = time.perf_counter()
        error = None
        try:
            with self.db.cursor() as cur:
                item = random.randint(1, ITEMS)
                if self.server_s:
                    query = "SELECT name, stock, pg_sleep(%s)::text FROM items WHERE id = %s"
                    cur.execute(query, (self.server_s, item))
                else:
                    cur.execute("SELECT name, stock FROM items WHERE id = %s", (item,))
                cur.fetchone()
        except psycopg2.Error as failure:
            error = failure
        events.request.fire(
            request_type="postgres",
            name="item by id",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )

    def on_stop(self):
        self.db.close()
