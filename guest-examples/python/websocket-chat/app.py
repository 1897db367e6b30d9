"""A chatter on a WebSocket echo service: each exchange (a text line, a
binary frame, a ping) is one event of type `ws`, timed by the host. The
connection offers the `chat.v1` subprotocol and says which user it is in a
header.

Run with `--host ws://127.0.0.1:8765/chat`; `-e WAIT_MS=...` is the pause
after each task (default 100).
"""

from wasmload import User, constant, context, task, users, websocket


class Chatter(User):
    name = "chatter"

    @staticmethod
    def wait_time():
        return constant(int(context.param("WAIT_MS", "100")) / 1000)

    def on_start(self):
        self.socket = websocket.connect(
            "", headers={"x-user": str(context.user_id())}, subprotocols=["chat.v1"]
        )
        assert self.socket.subprotocol == "chat.v1", "no chat.v1 subprotocol"

    def on_stop(self):
        self.socket.close(reason="done")

    @task(3)
    def say(self):
        line = f"hello from user {context.user_id()}"
        assert self.socket.request("say", line) == line, "the echo differs"

    @task
    def upload(self):
        frame = bytes(range(256))
        assert self.socket.request("upload", frame) == frame, "the binary echo differs"

    @task
    def ping(self):
        self.socket.ping()


Behaviour = users(Chatter)
