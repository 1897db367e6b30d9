"""`Session` and the module-level `get`, `post`, ...: every request goes out
through the host's HTTP session of this user (keep-alive, cookies,
redirects, the run's TLS settings and allow-list) and is recorded as one
event, named by its URL's path unless `name=` says otherwise."""

from componentize_py_types import Err
from wasmload import context
from wit_world.imports import http as host

from .adapters import HTTPAdapter
from .cookies import RequestsCookieJar
from .exceptions import (
    ConnectionError,
    InvalidHeader,
    InvalidSchema,
    InvalidURL,
    MissingSchema,
    ReadTimeout,
    RequestException,
    SSLError,
    TooManyRedirects,
)
from .models import PreparedRequest, Request, Response
from .structures import CaseInsensitiveDict
from .utils import default_headers


def _micros(timeout):
    """One whole-exchange timeout: a (connect, read) pair is their sum."""
    if isinstance(timeout, tuple):
        if any(part is None for part in timeout):
            return None
        timeout = sum(timeout)
    return None if timeout is None else int(timeout * 1_000_000)


def _merge(request_value, session_value):
    """Request settings over session settings; a None value removes a key."""
    if request_value is None:
        return session_value
    if session_value is None or not hasattr(session_value, "items"):
        return request_value
    merged = CaseInsensitiveDict(session_value)
    merged.update(request_value)
    for key in [key for key, value in merged.items() if value is None]:
        del merged[key]
    return merged


def _exception(variant, request):
    """The `requests` exception for the host's error variant."""
    text = getattr(variant, "value", None) or ""
    if isinstance(variant, host.Error_Timeout):
        return ReadTimeout(f"{request.method} {request.url}: timed out", request=request)
    if isinstance(variant, host.Error_TooManyRedirects):
        return TooManyRedirects(f"{request.url}: more than 10 redirects", request=request)
    if isinstance(variant, host.Error_Connect):
        tls = "tls" in text.lower() or "certificate" in text.lower()
        return (SSLError if tls else ConnectionError)(f"{request.url}: {text}", request=request)
    if isinstance(variant, host.Error_Transport):
        return ConnectionError(f"{request.url}: {text}", request=request)
    if "no scheme" in text or "needs --host" in text:
        return MissingSchema(text, request=request)
    if "unsupported scheme" in text:
        return InvalidSchema(text, request=request)
    if "URL" in text:
        return InvalidURL(text, request=request)
    if "header" in text:
        return InvalidHeader(text, request=request)
    return RequestException(text, request=request)


class Session:
    """Settings shared by requests: headers, auth, params, cookies, hooks.

    Every session of a user shares that user's connections and the host's
    cookie jar. `verify`, `cert` and `proxies` are kept but not applied: TLS
    trust is the run's (`--ca-cert`, `--insecure`) and requests go straight
    to their host, within the run's allow-list.
    """

    def __init__(self):
        self.headers = default_headers()
        self.auth = None
        self.params = {}
        self.cookies = RequestsCookieJar()
        self.hooks = {"response": []}
        self.stream = False
        self.verify = True
        self.cert = None
        self.proxies = {}
        self.trust_env = True
        self.max_redirects = 10
        self.adapters = {}
        self.mount("https://", HTTPAdapter())
        self.mount("http://", HTTPAdapter())

    def prepare_request(self, request):
        """The `PreparedRequest` of `request` with this session's settings merged in."""
        cookies = self.cookies.to_send()
        cookies.update(request.cookies or {})
        params = dict(self.params or {})
        if isinstance(request.params, dict):
            params.update(request.params)
        else:
            params = request.params or params
        prepared = PreparedRequest()
        prepared.prepare(
            method=request.method,
            url=request.url,
            headers=_merge(request.headers, self.headers),
            files=request.files,
            data=request.data,
            json=request.json,
            params=params,
            auth=request.auth or self.auth,
            cookies=cookies,
            hooks={**self.hooks, **(request.hooks or {})},
        )
        return prepared

    def request(self, method, url, params=None, data=None, headers=None, cookies=None,
                files=None, auth=None, timeout=None, allow_redirects=True, proxies=None,
                hooks=None, stream=None, verify=None, cert=None, json=None, name=None):
        """Sends one request and returns its `Response`. `name` (wasmload's,
        as in Locust's HttpSession) groups the event in the stats."""
        request = Request(method=method, url=url, headers=headers, files=files, data=data,
                          json=json, params=params, auth=auth, cookies=cookies, hooks=hooks)
        prepared = self.prepare_request(request)
        return self.send(prepared, timeout=timeout, allow_redirects=allow_redirects, name=name)

    def send(self, request, timeout=None, allow_redirects=True, name=None, **_settings):
        """Sends a `PreparedRequest`; `stream`, `verify`, `cert` and `proxies` are ignored."""
        headers = request.headers.copy()
        if request._cookies:
            sent = "; ".join(f"{key}={value}" for key, value in request._cookies.items())
            headers["Cookie"] = f"{headers['Cookie']}; {sent}" if "cookie" in headers else sent
        pairs = [(str(key), value.decode("latin1") if isinstance(value, bytes) else str(value))
                 for key, value in headers.items()]
        outgoing = host.Request(request.method, request.url, pairs, request.body or b"", name,
                                _micros(timeout), bool(allow_redirects))
        # As requests' HTTPAdapter(max_retries=n), i.e. Retry(total=n, read=False):
        # only a connection that could not be made is tried again.
        retries = getattr(self.get_adapter(request.url), "max_retries", 0)
        while True:
            try:
                handle = host.send(outgoing)
                break
            except Err as error:
                if not isinstance(error.value, host.Error_Connect) or retries <= 0:
                    raise _exception(error.value, request) from None
                retries -= 1
        # Read everything, then drop the handle: that records the event now,
        # judged by status, so a library holding responses holds no host slot.
        with handle:
            response = Response(request, handle.status(), handle.url(), handle.headers(),
                                handle.body(), handle.elapsed_us())
        self.cookies.take_from_response(response.cookies)
        for hook in request.hooks.get("response", []):
            response = hook(response) or response
        return response

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def options(self, url, **kwargs):
        return self.request("OPTIONS", url, **kwargs)

    def head(self, url, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def post(self, url, data=None, json=None, **kwargs):
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url, data=None, **kwargs):
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url, data=None, **kwargs):
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def mount(self, prefix, adapter):
        """Uses `adapter`'s retries for URLs starting with `prefix` (longest prefix wins)."""
        self.adapters[prefix] = adapter
        self.adapters = dict(sorted(self.adapters.items(), key=lambda item: -len(item[0])))

    def get_adapter(self, url):
        """The adapter mounted for `url` (a relative one is under `--host`), or None."""
        if "://" not in url:
            url = (context.host_url() or "").rstrip("/") + url
        for prefix, adapter in self.adapters.items():
            if url.lower().startswith(prefix.lower()):
                return adapter
        return None

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        """The settings `send` takes (no environment is read in the sandbox)."""
        return {"proxies": proxies or {}, "stream": stream, "verify": verify, "cert": cert}

    def close(self):
        """Nothing to release: connections belong to the user."""

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()


def session():
    """A new `Session` (requests' old spelling)."""
    return Session()


__all__ = ["Session", "session"]
