"""Raw TCP connections, plain or TLS; the host times each exchange."""

from typing import Optional

from wit_world.imports import tcp as host

from ._time import micros
from .errors import unwrap


class Connection:
    """An open connection (one `tcp connect` event); closed when the user stops."""

    def __init__(self, address: str, tls: bool = False, timeout: Optional[float] = None):
        self._handle = unwrap(host.Connection.connect, address, host.ConnectOptions(micros(timeout), tls))
        self.timeout = timeout
        self.max_message = 1 << 20

    def send(self, data: bytes) -> None:
        """Sends all of `data`."""
        unwrap(self._handle.send, data)

    def receive(self, max: int = 65536) -> bytes:
        """Up to `max` bytes, as soon as any arrive; empty once the peer closed."""
        return unwrap(self._handle.receive, max, micros(self.timeout))

    def receive_until(self, delimiter: bytes) -> bytes:
        """The bytes up to and including the first `delimiter`."""
        return unwrap(self._handle.receive_until, delimiter, self.max_message, micros(self.timeout))

    def request(self, name: str, payload: bytes, until: bytes) -> bytes:
        """Sends `payload` and reads up to and including `until`: one event named `name`."""
        return unwrap(self._handle.request, name, payload, until, micros(self.timeout))


def connect(address: str, *, tls: bool = False, timeout: Optional[float] = None) -> Connection:
    """Connects to `host:port`; raises `WasmloadError` when it cannot."""
    return Connection(address, tls, timeout)
