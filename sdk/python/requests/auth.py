"""Authentication the way `requests` applies it: a callable given the
prepared request, which it may change (usually its headers)."""

from base64 import b64encode


def _basic_auth_str(username, password):
    if isinstance(username, str):
        username = username.encode("latin1")
    if isinstance(password, str):
        password = password.encode("latin1")
    return "Basic " + b64encode(username + b":" + password).decode("ascii")


class AuthBase:
    """Base class of every auth: `__call__(request)` returns the request."""

    def __call__(self, request):
        raise NotImplementedError("auth hooks must be callable")


class HTTPBasicAuth(AuthBase):
    """Sends `Authorization: Basic ...` with every request."""

    def __init__(self, username, password):
        self.username = username
        self.password = password

    def __eq__(self, other):
        return (self.username, self.password) == (
            getattr(other, "username", None),
            getattr(other, "password", None),
        )

    def __call__(self, request):
        request.headers["Authorization"] = _basic_auth_str(self.username, self.password)
        return request


class HTTPProxyAuth(HTTPBasicAuth):
    """Sends `Proxy-Authorization: Basic ...`."""

    def __call__(self, request):
        request.headers["Proxy-Authorization"] = _basic_auth_str(self.username, self.password)
        return request
