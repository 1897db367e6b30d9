"""MQTT 3.1.1: connect is one `mqtt` event; each publish is one, timed to its
acknowledgement (QoS 0: sent; 1: PUBACK; 2: PUBCOMP) and named by its topic.

    broker = mqtt.connect()                        # --host, mqtt://host:1883
    broker.publish("sensors/alarm", b"open", qos=1)
"""

from dataclasses import dataclass
from typing import Optional, Union

from wit_world.imports import mqtt as host

from ._connection import HostConnection
from ._time import micros
from .errors import unwrap

_QOS = {0: host.Qos.AT_MOST_ONCE, 1: host.Qos.AT_LEAST_ONCE, 2: host.Qos.EXACTLY_ONCE}
_LEVEL = {value: key for key, value in _QOS.items()}


def _qos(level: int) -> "host.Qos":
    try:
        return _QOS[level]
    except KeyError:
        raise ValueError(f"QoS is 0, 1 or 2, not {level!r}") from None


@dataclass
class Message:
    """A message delivered on a subscription."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


class Connection(HostConnection):
    """A connection to the broker; closed when dropped, by `disconnect()`, or with `with`."""

    def publish(
        self,
        topic: str,
        payload: Union[bytes, str],
        qos: int = 0,
        *,
        retain: bool = False,
        name: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Publishes and waits for its acknowledgement: one event named `name` or the topic."""
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        message = host.Message(topic, data, _qos(qos), retain)
        unwrap(self._handle.publish, name, message, self._timeout_us(timeout))

    def subscribe(self, topic_filter: str, qos: int = 0, timeout: Optional[float] = None) -> int:
        """Subscribes; returns the QoS the broker granted. One event `subscribe FILTER`."""
        granted = unwrap(self._handle.subscribe, topic_filter, _qos(qos), self._timeout_us(timeout))
        return _LEVEL[granted]

    def receive(self, timeout: Optional[float] = None) -> Message:
        """The next message on this connection's subscriptions."""
        got = unwrap(self._handle.receive, self._timeout_us(timeout))
        return Message(got.topic, got.payload, _LEVEL[got.qos], got.retain)

    def ping(self, timeout: Optional[float] = None) -> None:
        """PINGREQ, timed to its PINGRESP: one event named `ping`."""
        unwrap(self._handle.ping, self._timeout_us(timeout))

    def disconnect(self) -> None:
        """Says goodbye (DISCONNECT) and closes."""
        unwrap(self._handle.disconnect)


def connect(
    url: str = "",
    *,
    client_id: Optional[str] = None,
    keep_alive: int = 0,
    clean_session: bool = True,
    timeout: Optional[float] = None,
) -> Connection:
    """Connects to `url` (`mqtt://[user:password@]host:1883`, `mqtts://...`;
    "" is `--host`). `keep_alive` in seconds, 0 for none (nothing pings for
    you); `timeout` bounds the connect and is the default of later calls."""
    options = host.ConnectOptions(client_id, keep_alive, clean_session, micros(timeout))
    return Connection(unwrap(host.Connection.connect, url, options), timeout)
