"""Request events for work the host does not see, custom counters and trends."""

from typing import Optional

from wit_world.imports import events as host

from ._time import micros


def fire(kind: str, name: str, response_time: float, length: int = 0, error: Optional[str] = None) -> None:
    """Records one request event; `response_time` in seconds, `error` makes it a failure."""
    host.fire(host.RequestEvent(kind, name, micros(response_time), length, error))


def counter(name: str, value: float = 1.0) -> None:
    """Adds `value` to the custom counter `name`."""
    host.add_counter(name, value)


def trend(name: str, value: float) -> None:
    """Records one sample of the custom trend `name`."""
    host.add_trend(name, value)


class timer:
    """Times a block as one event: a failure if the block raises, else a success.

        with events.timer("redis", "GET") as t:
            t.length = len(reply)
    """

    def __init__(self, kind: str, name: str):
        self.kind, self.name, self.length = kind, name, 0

    def __enter__(self):
        self._timer = host.Timer(self.kind, self.name)
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc is None:
            self._timer.success(self.length)
        else:
            self._timer.failure(str(exc) or exc_type.__name__)
        self._timer.__exit__(None, None, None)
        return False
