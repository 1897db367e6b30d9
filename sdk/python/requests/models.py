"""`Request`, `PreparedRequest` and `Response`, shaped as in `requests`."""

import io
import json as jsonlib
import uuid
from collections.abc import Mapping
from datetime import timedelta
from http.client import responses as reasons
from urllib.parse import urlencode, urlsplit, urlunsplit

from .cookies import RequestsCookieJar
from .exceptions import HTTPError, InvalidJSONError, JSONDecodeError, URLRequired
from .structures import CaseInsensitiveDict

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


def _pairs(value):
    """(key, value) pairs from a dict or a list of pairs; values may be lists."""
    items = value.items() if isinstance(value, Mapping) else value
    for key, item in items:
        for one in item if isinstance(item, (list, tuple)) else [item]:
            if one is not None:
                yield key, one


def _text(value):
    return value.decode("latin1") if isinstance(value, bytes) else str(value)


def _form_item(value):
    """A form key or value as `urlencode` takes it: bytes stay bytes."""
    return value if isinstance(value, bytes) else str(value)


def _with_params(url, params):
    if isinstance(params, (str, bytes)):
        query = _text(params)
    else:
        query = urlencode([(_form_item(k), _form_item(v)) for k, v in _pairs(params or {})])
    scheme, netloc, path, old, _fragment = urlsplit(url)
    query = "&".join(part for part in (old, query) if part)
    return urlunsplit((scheme, netloc, path, query, ""))


def _read_all(data):
    if hasattr(data, "read"):
        data = data.read()
    elif not isinstance(data, (str, bytes, bytearray)) and hasattr(data, "__iter__"):
        data = b"".join(chunk.encode() if isinstance(chunk, str) else chunk for chunk in data)
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    return str(data).encode("utf-8")


def _multipart(data, files):
    """A multipart/form-data body of `data`'s fields and `files`."""
    boundary = uuid.uuid4().hex
    parts = []

    def part(name, content, filename=None, content_type=None, headers=None):
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        lines = [f"Content-Disposition: {disposition}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines += [f"{key}: {value}" for key, value in (headers or {}).items()]
        head = f"--{boundary}\r\n" + "\r\n".join(lines) + "\r\n\r\n"
        parts.append(head.encode("utf-8") + _read_all(content) + b"\r\n")

    for name, value in _pairs(data or {}):
        part(_text(name), value)
    for name, value in files.items() if isinstance(files, Mapping) else files:
        if value is None:
            continue
        if isinstance(value, (tuple, list)):
            filename, content, *rest = value
            part(name, content, filename, *rest)
        else:
            filename = getattr(value, "name", None) or name
            part(name, value, str(filename).rsplit("/", 1)[-1])
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class PreparedRequest:
    """What is sent: method, final URL, headers and body bytes."""

    def __init__(self):
        self.method = None
        self.url = None
        self.headers = CaseInsensitiveDict()
        self.body = None
        self.hooks = {"response": []}
        self._cookies = {}

    def prepare(self, method=None, url=None, headers=None, files=None, data=None,
                params=None, auth=None, cookies=None, hooks=None, json=None):
        """Builds everything in the order `requests` does; auth runs last."""
        self.method = (method or "GET").upper()
        if not url:
            raise URLRequired("no URL given")
        self.url = _with_params(_text(url).strip(), params)
        self.headers = CaseInsensitiveDict(
            {_text(k): v for k, v in (headers or {}).items() if v is not None}
        )
        self._cookies = dict(cookies or {})
        self.prepare_body(data, files, json)
        for event, hook in (hooks or {}).items():
            self.hooks.setdefault(event, []).extend(hook if isinstance(hook, list) else [hook])
        if isinstance(auth, tuple) and len(auth) == 2:
            from .auth import HTTPBasicAuth

            auth = HTTPBasicAuth(*auth)
        if auth:
            changed = auth(self)
            if changed is not None:
                self.__dict__.update(changed.__dict__)

    def prepare_body(self, data, files, json=None):
        """Encodes `files`, `data` or `json` into the body, with its Content-Type."""
        content_type = None
        if files:
            body, content_type = _multipart(data, files)
        elif data:
            if isinstance(data, (Mapping, list, tuple)):
                body = urlencode([(_form_item(k), _form_item(v)) for k, v in _pairs(data)]).encode()
                content_type = "application/x-www-form-urlencoded"
            else:
                body = _read_all(data)
        elif json is not None:
            try:
                body = jsonlib.dumps(json, allow_nan=False).encode("utf-8")
            except ValueError as error:
                raise InvalidJSONError(error, request=self) from None
            content_type = "application/json"
        else:
            body = None
        if content_type and "content-type" not in self.headers:
            self.headers["Content-Type"] = content_type
        self.body = body

    def copy(self):
        copied = PreparedRequest()
        copied.__dict__.update(self.__dict__)
        copied.headers = self.headers.copy()
        return copied

    def __repr__(self):
        return f"<PreparedRequest [{self.method}]>"


class Request:
    """A request not yet prepared (`requests.Request(...).prepare()`)."""

    def __init__(self, method=None, url=None, headers=None, files=None, data=None,
                 params=None, auth=None, cookies=None, hooks=None, json=None):
        self.method = method
        self.url = url
        self.headers = headers or {}
        self.files = files or []
        self.data = data or []
        self.params = params or {}
        self.auth = auth
        self.cookies = cookies
        self.hooks = hooks or {}
        self.json = json

    def prepare(self):
        """The `PreparedRequest` of this request."""
        prepared = PreparedRequest()
        prepared.prepare(self.method, self.url, self.headers, self.files, self.data,
                         self.params, self.auth, self.cookies, self.hooks, self.json)
        return prepared

    def __repr__(self):
        return f"<Request [{self.method}]>"


def _encoding(headers):
    """The charset of Content-Type, as `requests.utils.get_encoding_from_headers`."""
    content_type = headers.get("content-type")
    if not content_type:
        return None
    kind, *params = [part.strip() for part in content_type.split(";")]
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip("'\" ")
    if "text" in kind:
        return "ISO-8859-1"
    if "application/json" in kind:
        return "utf-8"
    return None


class Response:
    """A whole response, already recorded as an event when it arrives:
    unless code says otherwise, a status of 400 or more is a failure."""

    def __init__(self, request, status, url, header_pairs, content, elapsed_us):
        self.request = request
        self.status_code = status
        self.url = url
        self.reason = reasons.get(status, "")
        self.headers = CaseInsensitiveDict()
        set_cookies = []
        for name, value in header_pairs:
            if name.lower() == "set-cookie":
                set_cookies.append(value)
            self.headers[name] = (
                f"{self.headers[name]}, {value}" if name in self.headers else value
            )
        self.cookies = RequestsCookieJar()
        self.cookies.take_from_server(set_cookies)
        self._content = content
        self.encoding = _encoding(self.headers)
        self.elapsed = timedelta(microseconds=elapsed_us)
        self.history = []
        self.raw = io.BytesIO(content)
        self.connection = None

    @property
    def content(self):
        """The body, bytes."""
        return self._content

    @property
    def apparent_encoding(self):
        """What the body looks like: UTF-8 (no guessing library is bundled)."""
        return "utf-8"

    @property
    def text(self):
        """The body decoded with `encoding` (UTF-8 when none or unknown); bad bytes replaced."""
        try:
            return self._content.decode(self.encoding or self.apparent_encoding, "replace")
        except LookupError:
            return self._content.decode("utf-8", "replace")

    def json(self, **kwargs):
        """The body parsed as JSON; raises `requests.exceptions.JSONDecodeError`."""
        try:
            if self.encoding is None:
                return jsonlib.loads(self._content, **kwargs)
            return jsonlib.loads(self.text, **kwargs)
        except jsonlib.JSONDecodeError as error:
            raise JSONDecodeError(error.msg, error.doc, error.pos, response=self) from None

    @property
    def ok(self):
        """False for a 4xx or 5xx status (what `raise_for_status` raises for)."""
        return not 400 <= self.status_code < 600

    def __bool__(self):
        return self.ok

    @property
    def is_redirect(self):
        return "location" in self.headers and self.status_code in REDIRECT_STATUSES

    @property
    def is_permanent_redirect(self):
        return "location" in self.headers and self.status_code in (301, 308)

    @property
    def next(self):
        return None

    @property
    def links(self):
        """The `Link` header parsed: {rel: {"url": ..., "rel": ...}}."""
        links = {}
        for link in filter(None, (self.headers.get("link") or "").split(",")):
            url, *params = link.split(";")
            entry = {"url": url.strip(" <>'\"")}
            for param in params:
                key, _, value = param.partition("=")
                entry[key.strip()] = value.strip(" '\"")
            links[entry.get("rel") or entry["url"]] = entry
        return links

    def raise_for_status(self):
        """Raises `HTTPError` for a 4xx or 5xx status, as `requests` words it."""
        side = "Client" if 400 <= self.status_code < 500 else "Server"
        if 400 <= self.status_code < 600:
            raise HTTPError(
                f"{self.status_code} {side} Error: {self.reason} for url: {self.url}",
                response=self,
            )

    def iter_content(self, chunk_size=1, decode_unicode=False):
        """The body in pieces of `chunk_size` bytes (all of it if None)."""
        size = chunk_size or max(len(self._content), 1)
        for start in range(0, len(self._content), size):
            chunk = self._content[start:start + size]
            yield chunk.decode(self.encoding or "utf-8", "replace") if decode_unicode else chunk

    def iter_lines(self, chunk_size=512, decode_unicode=False, delimiter=None):
        """The body line by line."""
        body = self.text if decode_unicode else self._content
        lines = body.split(delimiter) if delimiter else body.splitlines()
        yield from lines

    def __iter__(self):
        return self.iter_content(128)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def close(self):
        """Nothing to release: the body was read whole and the event recorded."""

    def __repr__(self):
        return f"<Response [{self.status_code}]>"
