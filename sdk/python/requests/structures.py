"""`CaseInsensitiveDict`, the type of every `headers` in `requests`."""

from collections import OrderedDict
from collections.abc import Mapping, MutableMapping


class CaseInsensitiveDict(MutableMapping):
    """A dict whose keys compare without case, keeping the case last set."""

    def __init__(self, data=None, **kwargs):
        self._store = OrderedDict()
        self.update(data or {}, **kwargs)

    def __setitem__(self, key, value):
        if isinstance(key, bytes):
            key = key.decode("latin1")
        self._store[key.lower()] = (key, value)

    def __getitem__(self, key):
        return self._store[key.lower()][1]

    def __delitem__(self, key):
        del self._store[key.lower()]

    def __iter__(self):
        return (key for key, _ in self._store.values())

    def __len__(self):
        return len(self._store)

    def lower_items(self):
        """(lowercased key, value) pairs."""
        return ((lower, pair[1]) for lower, pair in self._store.items())

    def __eq__(self, other):
        if isinstance(other, Mapping):
            other = CaseInsensitiveDict(other)
        else:
            return NotImplemented
        return dict(self.lower_items()) == dict(other.lower_items())

    def copy(self):
        return CaseInsensitiveDict(self._store.values())

    def __repr__(self):
        return str(dict(self.items()))
