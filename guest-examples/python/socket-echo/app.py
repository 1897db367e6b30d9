"""Talks to echo servers over TCP and UDP with the request helpers, which
the host times as one event per exchange.

Parameters: `-e TCP=host:port -e UDP=host:port`.
"""

from wasmload import User, context, task, tcp, udp, users


class Echoer(User):
    name = "echoer"

    def on_start(self):
        tcp_address, udp_address = context.param("TCP"), context.param("UDP")
        if not tcp_address or not udp_address:
            raise ValueError("set -e TCP=host:port -e UDP=host:port")
        self.tcp = tcp.connect(tcp_address)
        self.udp = udp.connect(udp_address)

    @task
    def tcp_line(self):
        line = f"hello from user {context.user_id()}\n".encode()
        echoed = self.tcp.request("echo line", line, b"\n")
        assert echoed == line, f"TCP echo differs: {echoed!r}"

    @task
    def udp_datagram(self):
        echoed = self.udp.request("echo datagram", b"ping")
        assert echoed == b"ping", f"UDP echo differs: {echoed!r}"


Behaviour = users(Echoer)
