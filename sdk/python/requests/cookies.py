"""Cookies as `requests` shows them.

The host keeps each user's cookie jar itself (set by servers, sent back on
later requests, as a browser does), so no code is needed for a login to
stick. This jar is the guest's view: it shows what servers set in this
session's responses, and the cookies code sets itself (`jar.set(...)`,
`cookies=` arguments) are added to requests' `Cookie` headers.
"""

from http.cookies import SimpleCookie


class RequestsCookieJar(dict):
    """A dict of cookie name to value, with `requests`' jar methods."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self._from_server = set()
        self.update(*args, **kwargs)

    def __setitem__(self, name, value):
        self._from_server.discard(name)
        if value is None:
            self.pop(name, None)
        else:
            super().__setitem__(name, value)

    def update(self, *args, **kwargs):
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def set(self, name, value, **_attributes):
        """Sets a cookie this client sends (domain and path are not kept)."""
        self[name] = value

    def get(self, name, default=None, domain=None, path=None):
        return super().get(name, default)

    def get_dict(self, domain=None, path=None):
        """The cookies as a plain dict."""
        return dict(self)

    def copy(self):
        jar = RequestsCookieJar()
        dict.update(jar, self)
        jar._from_server = set(self._from_server)
        return jar

    def clear(self, domain=None, path=None, name=None):
        if name is None:
            super().clear()
            self._from_server.clear()
        else:
            self.pop(name, None)

    def to_send(self):
        """The cookies code set itself: the host adds the server's own."""
        return {name: value for name, value in self.items() if name not in self._from_server}

    def take_from_server(self, set_cookies):
        """Records what `Set-Cookie` headers set (the host already keeps them)."""
        for header in set_cookies:
            parsed = SimpleCookie()
            try:
                parsed.load(header)
            except Exception:  # a cookie Python cannot parse is skipped, as the host's jar does
                continue
            for name, morsel in parsed.items():
                super().__setitem__(name, morsel.value)
                self._from_server.add(name)

    def take_from_response(self, response_jar):
        """Records what a response's jar (parsed once, there) says servers set."""
        for name, value in response_jar.items():
            super().__setitem__(name, value)
            self._from_server.add(name)


def cookiejar_from_dict(cookies, cookiejar=None, overwrite=True):
    """A jar holding `cookies` (requests.utils' helper)."""
    jar = cookiejar if cookiejar is not None else RequestsCookieJar()
    for name, value in (cookies or {}).items():
        if overwrite or name not in jar:
            jar[name] = value
    return jar
