"""`requests` for wasmload users: the API of the `requests` library, sending
through the host's HTTP session, so libraries written for `requests` run
unchanged inside a user and every call they make is a recorded event.

    import requests

    response = requests.get("/items", params={"page": 2}, timeout=5)
    response.raise_for_status()
    items = response.json()

Relative URLs resolve against `--host`. See docs/sdk.md for what differs
from the PyPI package (TLS trust and proxies are the run's, cookies are kept
by the host, timeouts cover the whole exchange).
"""

# The version of the `requests` API this module follows; libraries check it.
__version__ = "2.32.3"

from . import adapters, auth, compat, exceptions, status_codes, structures, utils  # noqa: E402
from .exceptions import (  # noqa: E402
    ConnectionError,
    ConnectTimeout,
    HTTPError,
    JSONDecodeError,
    ReadTimeout,
    RequestException,
    Timeout,
    TooManyRedirects,
    URLRequired,
)
from .models import PreparedRequest, Request, Response  # noqa: E402
from .sessions import Session, session  # noqa: E402
from .status_codes import codes  # noqa: E402


def request(method, url, **kwargs):
    """Sends one request with a new `Session` (the user's cookies still apply)."""
    with Session() as one:
        return one.request(method=method, url=url, **kwargs)


def get(url, params=None, **kwargs):
    return request("GET", url, params=params, **kwargs)


def options(url, **kwargs):
    return request("OPTIONS", url, **kwargs)


def head(url, **kwargs):
    kwargs.setdefault("allow_redirects", False)
    return request("HEAD", url, **kwargs)


def post(url, data=None, json=None, **kwargs):
    return request("POST", url, data=data, json=json, **kwargs)


def put(url, data=None, **kwargs):
    return request("PUT", url, data=data, **kwargs)


def patch(url, data=None, **kwargs):
    return request("PATCH", url, data=data, **kwargs)


def delete(url, **kwargs):
    return request("DELETE", url, **kwargs)


__all__ = [
    "ConnectTimeout", "ConnectionError", "HTTPError", "JSONDecodeError", "PreparedRequest",
    "ReadTimeout", "Request", "RequestException", "Response", "Session", "Timeout",
    "TooManyRedirects", "URLRequired", "adapters", "auth", "codes", "delete", "exceptions",
    "get", "head", "options", "patch", "post", "put", "request", "session", "status_codes",
    "structures", "compat", "utils",
]
