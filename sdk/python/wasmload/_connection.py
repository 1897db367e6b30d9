"""What the SDK's connection classes share: a host resource, closed when
dropped or by `with`, and a default timeout for every call."""

from typing import Optional

from ._time import micros


class HostConnection:
    """A connection held by the host for this user."""

    def __init__(self, handle, timeout: Optional[float]):
        self._handle = handle
        self.timeout = timeout

    def _timeout_us(self, timeout: Optional[float]) -> Optional[int]:
        """`timeout`, else the connection's, in the host's microseconds."""
        return micros(timeout if timeout is not None else self.timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._handle.__exit__(None, None, None)
