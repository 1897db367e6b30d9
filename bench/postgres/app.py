"""The benchmark's wasmload user: a blocking-looking DB-API loop, one
lookup by primary key per task, no wait, its own connection. With
`-e QUERY_MS=N` each lookup also spends N ms on the server (pg_sleep), as a
query that works or a server farther away would."""

from wasmload import User, context, postgres, task, users

ITEMS = 1000


class Reader(User):
    def on_start(self):
        self.db = postgres.connect()
        self.db.autocommit = True
        self.server_s = int(context.param("QUERY_MS", "0")) / 1000

    @task
    def lookup(self):
        cur = self.db.cursor()
        item = context.random_range(1, ITEMS + 1)
        if self.server_s:
            query = "SELECT name, stock, pg_sleep(%s)::text FROM items WHERE id = %s"
            cur.execute(query, (self.server_s, item), name="item by id")
        else:
            cur.execute("SELECT name, stock FROM items WHERE id = %s", (item,), name="item by id")
        cur.fetchone()


Behaviour = users(Reader)
