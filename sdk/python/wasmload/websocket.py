"""WebSocket connections (ws:// and wss://): the handshake is one `ws` event
named `connect`, `request` and `ping` are each one timed exchange.

    socket = websocket.connect("", subprotocols=["chat.v1"])   # "" is --host
    reply = socket.request("say", "hello")                       # one event
"""

from typing import Dict, List, Optional, Tuple, Union

from wit_world.imports import websocket as host

from ._connection import HostConnection
from ._time import micros
from .errors import unwrap

Message = Union[str, bytes]


def _outgoing(message: Message) -> "host.Message":
    if isinstance(message, str):
        return host.Message_Text(message)
    return host.Message_Binary(bytes(message))


def _incoming(message: "host.Message") -> Message:
    """A text message as `str`, a binary one as `bytes`."""
    return message.value


class Connection(HostConnection):
    """An open connection; closed when dropped, by `close()`, or with `with`."""

    @property
    def subprotocol(self) -> Optional[str]:
        """The subprotocol the server chose, if any."""
        return self._handle.subprotocol()

    def send(self, message: Message) -> None:
        """Sends a text (`str`) or binary (`bytes`) message."""
        unwrap(self._handle.send, _outgoing(message))

    def receive(self, timeout: Optional[float] = None) -> Message:
        """The next message (pings are answered meanwhile)."""
        return _incoming(unwrap(self._handle.receive, self._timeout_us(timeout)))

    def request(self, name: str, message: Message, timeout: Optional[float] = None) -> Message:
        """Sends `message` and returns the next one: one event named `name`."""
        reply = unwrap(self._handle.request, name, _outgoing(message), self._timeout_us(timeout))
        return _incoming(reply)

    def ping(self, timeout: Optional[float] = None) -> None:
        """Sends a ping and waits for its pong: one event named `ping`."""
        unwrap(self._handle.ping, self._timeout_us(timeout))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Closes with `code` (1000: normal) and `reason`, as `websockets` does."""
        unwrap(self._handle.close, code, reason)


def connect(
    url: str = "",
    *,
    headers: Union[Dict[str, str], List[Tuple[str, str]], None] = None,
    subprotocols: Optional[List[str]] = None,
    timeout: Optional[float] = None,
) -> Connection:
    """Connects to `url` (`ws://host:port/path`, `wss://...`; "" is `--host`).
    `timeout` bounds the handshake and is the default of later calls."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    options = host.ConnectOptions(pairs, list(subprotocols or []), micros(timeout))
    return Connection(unwrap(host.Connection.connect, url, options), timeout)
