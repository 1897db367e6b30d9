"""The parts of `requests.utils` libraries reach for."""

from urllib.parse import quote, unquote, urlparse  # noqa: F401

from . import __version__
from .cookies import cookiejar_from_dict  # noqa: F401
from .structures import CaseInsensitiveDict


def default_user_agent(name="python-requests"):
    """`python-requests/VERSION`, the User-Agent sessions send."""
    return f"{name}/{__version__}"


def default_headers():
    """The headers a new session starts with."""
    return CaseInsensitiveDict({"User-Agent": default_user_agent(), "Accept": "*/*"})


def requote_uri(uri):
    """`uri` with what must be quoted quoted, and what already is left alone."""
    return quote(uri, safe="!#$%&'()*+,/:;=?@[]~")
