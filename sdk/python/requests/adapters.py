"""`HTTPAdapter`, for code that mounts one on a session. Connections are
the host's, so pool sizes mean nothing here and an adapter's own `send` is
never called; only `max_retries` (a count, or the `total` of a Retry-like
object) is used: a request whose connection could not be made is sent
again that many times, each try its own event, as requests'
`HTTPAdapter(max_retries=n)` does (no retry once the request was sent)."""

DEFAULT_RETRIES = 0


class BaseAdapter:
    """Base class of adapters."""

    def close(self):
        """Nothing to release."""


class HTTPAdapter(BaseAdapter):
    """Keeps `max_retries` (an int) for the requests it is mounted for."""

    def __init__(self, pool_connections=10, pool_maxsize=10, max_retries=DEFAULT_RETRIES,
                 pool_block=False):
        total = getattr(max_retries, "total", max_retries)
        self.max_retries = int(total or 0)
