"""`requests.codes`: status numbers by name (`codes.ok`, `codes.NOT_FOUND`)."""

from http import HTTPStatus


class _Codes(dict):
    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


codes = _Codes()
for _status in HTTPStatus:
    _name = _status.name.lower()
    codes[_name] = codes[_name.upper()] = _status.value
# requests' own short names that HTTPStatus spells differently.
codes.update(ok=200, OK=200, all_ok=200, created=201, accepted=202, no_content=204,
             moved=301, found=302, not_modified=304, temporary_redirect=307,
             permanent_redirect=308, bad=400, unauthorized=401, forbidden=403,
             not_found=404, not_allowed=405, conflict=409, gone=410, teapot=418,
             too_many_requests=429, server_error=500, unavailable=503)
