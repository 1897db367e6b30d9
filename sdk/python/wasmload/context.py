"""The user's view of the run: its id, parameters, time, randomness and log."""

from typing import Optional

from wit_world.imports import context as _wit

from ._time import micros


def user_id() -> int:
    """This user's number, 0-based, unique within the run."""
    return _wit.user_id()


def sleep(seconds: float) -> None:
    """Suspends this user (never a thread) for `seconds`."""
    _wit.sleep(micros(seconds))


def now() -> float:
    """Seconds since the run started (monotonic)."""
    return _wit.now_us() / 1_000_000


def random() -> int:
    """A random 64-bit number from this user's generator, seeded from `--seed`."""
    return _wit.random()


def random_range(low: int, high: int) -> int:
    """A random integer in `[low, high)`."""
    return low + _wit.random() % (high - low)


def param(key: str, default: Optional[str] = None) -> Optional[str]:
    """The run parameter given with `-e KEY=VALUE`, or `default`."""
    value = _wit.param(key)
    return default if value is None else value


def host_url() -> Optional[str]:
    """The run's `--host`, as given."""
    return _wit.host()


def log(message: str, level: str = "info") -> None:
    """Writes a line to the run's log, tagged with the user."""
    levels = {"debug": _wit.Level.DEBUG, "info": _wit.Level.INFO, "warn": _wit.Level.WARN, "error": _wit.Level.ERROR}
    _wit.log(levels[level], message)


class _LogWriter:
    """`print()` inside a user goes to the run's log: a component built with
    stubbed WASI has no stdout of its own."""

    def __init__(self, level: str):
        self.level, self.pending = level, ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            log(line, self.level)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            log(self.pending, self.level)
            self.pending = ""
