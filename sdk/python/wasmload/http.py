"""HTTP requests through the user's session (cookies, keep-alive, redirects),
and `rest` for JSON APIs the way Locust's `RestUser` does them."""

import json as jsonlib
from typing import Any, Dict, List, Optional, Tuple, Union

from wit_world.imports import http as host

from ._time import micros
from .errors import CheckFailed, unwrap

Headers = Union[Dict[str, str], List[Tuple[str, str]], None]


class Response:
    """A received response. Unjudged, a status of 400 or more is a failure."""

    def __init__(self, handle: host.Response):
        self._handle = handle
        self.status: int = handle.status()
        self.content: bytes = handle.body()

    @property
    def text(self) -> str:
        """The body as UTF-8, invalid sequences replaced."""
        return self.content.decode("utf-8", "replace")

    @property
    def url(self) -> str:
        """The final URL, after redirects."""
        return self._handle.url()

    @property
    def headers(self) -> List[Tuple[str, str]]:
        return self._handle.headers()

    @property
    def elapsed(self) -> float:
        """Seconds from sending the request to the end of the body."""
        return self._handle.elapsed_us() / 1_000_000

    def header(self, name: str) -> Optional[str]:
        """The first header with this name (case-insensitive)."""
        return self._handle.header(name)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.content)

    def success(self) -> None:
        """Records the request as a success, whatever the status."""
        self._handle.success()

    def failure(self, reason: str) -> None:
        """Records the request as a failure with this reason."""
        self._handle.failure(reason)

    def expect_status(self, status: int) -> "Response":
        """Fails the request, and raises `CheckFailed`, unless the status is `status`."""
        if self.status != status:
            reason = f"expected status {status}, got {self.status}"
            self.failure(reason)
            raise CheckFailed(reason)
        return self


def request(
    method: str,
    url: str,
    *,
    headers: Headers = None,
    body: Union[bytes, str] = b"",
    json: Any = None,
    name: Optional[str] = None,
    timeout: Optional[float] = None,
    allow_redirects: bool = True,
) -> Response:
    """Sends a request (`url` absolute, or a path under `--host`) and reads the
    whole response. Raises `WasmloadError` when no response came."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if json is not None:
        body = jsonlib.dumps(json)
        if not any(k.lower() == "content-type" for k, _ in pairs):
            pairs.append(("content-type", "application/json"))
    if isinstance(body, str):
        body = body.encode()
    sent = host.Request(method, url, pairs, body, name, micros(timeout), allow_redirects)
    return Response(unwrap(host.send, sent))


def get(url: str, **options) -> Response:
    """A GET request; options as for `request`."""
    return request("GET", url, **options)


def post(url: str, **options) -> Response:
    """A POST request; options as for `request`."""
    return request("POST", url, **options)


def put(url: str, **options) -> Response:
    """A PUT request; options as for `request`."""
    return request("PUT", url, **options)


def patch(url: str, **options) -> Response:
    """A PATCH request; options as for `request`."""
    return request("PATCH", url, **options)


def delete(url: str, **options) -> Response:
    """A DELETE request; options as for `request`."""
    return request("DELETE", url, **options)


def head(url: str, **options) -> Response:
    """A HEAD request; options as for `request`."""
    return request("HEAD", url, **options)


class rest:
    """A JSON request whose checks turn into a failed request, not a failed task.

        with rest("GET", "/items/7") as response:
            if response.js["in_stock"] is not True:
                response.failure("out of stock")
            assert response.js["id"] == 7   # an exception fails the request too

    `Content-Type` and `Accept` default to JSON; `response.js` is the parsed
    body (None when empty). A body that is not JSON fails the request, and
    `response.js` is None.
    """

    def __init__(self, method: str, url: str, *, headers: Headers = None, **options):
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        names = {k.lower() for k, _ in pairs}
        for key in ("content-type", "accept"):
            if key not in names:
                pairs.append((key, "application/json"))
        self._send = lambda: request(method, url, headers=pairs, **options)

    def __enter__(self) -> Response:
        response = self._send()
        response.js = None
        if response.content:
            try:
                response.js = jsonlib.loads(response.content)
            except ValueError as error:
                response.failure(f"invalid JSON: {error}")
        self._response = response
        return response

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc is not None and isinstance(exc, Exception):
            self._response.failure(str(exc) or exc_type.__name__)
            return True
        return False
