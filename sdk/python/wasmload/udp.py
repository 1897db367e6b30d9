"""UDP datagrams to one peer; the host times each request."""

from typing import Optional

from wit_world.imports import udp as host

from ._time import micros
from .errors import unwrap


class Socket:
    """A socket on a free local port that talks to one peer."""

    def __init__(self, address: str):
        self._handle = unwrap(host.Socket.connect, address)
        self.timeout: Optional[float] = None

    def send(self, data: bytes) -> None:
        """Sends one datagram."""
        unwrap(self._handle.send, data)

    def receive(self, max: int = 65536) -> bytes:
        """The next datagram."""
        return unwrap(self._handle.receive, max, micros(self.timeout))

    def request(self, name: str, payload: bytes) -> bytes:
        """Sends one datagram and waits for one back: one event named `name`."""
        return unwrap(self._handle.request, name, payload, micros(self.timeout))


def connect(address: str) -> Socket:
    """A socket to `host:port`; raises `WasmloadError` when it cannot."""
    return Socket(address)
