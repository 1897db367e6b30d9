"""Greets the canonical `helloworld.Greeter` service at `--host` and checks
the reply. The one-field protobuf messages are encoded by hand; the host
only carries bytes."""

from wasmload import User, context, grpc, task, users


def hello_request(name: str) -> bytes:
    """`message HelloRequest { string name = 1; }`, for names under 128 bytes."""
    data = name.encode()
    return bytes([0x0A, len(data)]) + data


def hello_reply(message: bytes) -> str:
    """`message HelloReply { string message = 1; }`."""
    if len(message) < 2 or message[0] != 0x0A or message[1] != len(message) - 2:
        raise ValueError(f"undecodable reply {message!r}")
    return message[2:].decode()


class Greeter(User):
    name = "greeter"

    def on_start(self):
        self.name = f"user {context.user_id()}"

    @task
    def say_hello(self):
        reply = grpc.unary("/helloworld.Greeter/SayHello", hello_request(self.name))
        greeting = hello_reply(reply.message)
        assert greeting == f"Hello {self.name}", f"unexpected greeting {greeting!r}"


Behaviour = users(Greeter)
