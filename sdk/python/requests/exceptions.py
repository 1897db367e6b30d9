"""The exceptions of `requests`, with the same names and hierarchy, so code
that catches `requests.exceptions.Timeout` or `ConnectionError` still does."""

import json


class RequestException(IOError):
    """Something went wrong with a request; `request` and `response` when known."""

    def __init__(self, *args, **kwargs):
        self.response = kwargs.pop("response", None)
        self.request = kwargs.pop("request", None)
        if self.response is not None and self.request is None:
            self.request = getattr(self.response, "request", None)
        super().__init__(*args, **kwargs)


class InvalidJSONError(RequestException):
    """A body could not be encoded or decoded as JSON."""


class JSONDecodeError(InvalidJSONError, json.JSONDecodeError):
    """The response body is not JSON."""

    def __init__(self, *args, **kwargs):
        json.JSONDecodeError.__init__(self, *args)
        InvalidJSONError.__init__(self, *self.args, **kwargs)

    def __reduce__(self):
        return json.JSONDecodeError.__reduce__(self)


class HTTPError(RequestException):
    """`raise_for_status()` found a 4xx or 5xx status."""


class ConnectionError(RequestException):  # noqa: A001 - requests' name
    """The connection could not be made or broke during the exchange."""


class ProxyError(ConnectionError):
    """A proxy failed."""


class SSLError(ConnectionError):
    """The TLS handshake failed (certificate, protocol)."""


class Timeout(RequestException):
    """The request timed out."""


class ConnectTimeout(ConnectionError, Timeout):
    """Connecting timed out."""


class ReadTimeout(Timeout):
    """The server did not answer in time. wasmload's timeout covers the
    whole exchange, so every timeout is raised as this."""


class URLRequired(RequestException):
    """No URL was given."""


class TooManyRedirects(RequestException):
    """More redirects than the host follows (10)."""


class MissingSchema(RequestException, ValueError):
    """The URL has no scheme and the run has no --host to resolve it against."""


class InvalidSchema(RequestException, ValueError):
    """The URL's scheme is not http or https."""


class InvalidURL(RequestException, ValueError):
    """The URL is not valid."""


class InvalidHeader(RequestException, ValueError):
    """A header name or value is not valid."""


class ChunkedEncodingError(RequestException):
    """The server's chunked body was broken."""


class ContentDecodingError(RequestException):
    """The body could not be decoded."""


class StreamConsumedError(RequestException, TypeError):
    """The body was already read."""


class RetryError(RequestException):
    """Retries were exhausted."""


class RequestsWarning(Warning):
    """Base of requests' warnings."""
