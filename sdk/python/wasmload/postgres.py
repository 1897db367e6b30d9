"""PostgreSQL the DB-API way (PEP 249), so psycopg-style code reads the same;
the host does the I/O and records every statement as a `postgres` event.

    from wasmload import postgres

    db = postgres.connect()                # --host postgres://shop@127.0.0.1:5432/shop
    cur = db.cursor()
    cur.execute("SELECT name FROM items WHERE id = %s", (7,))
    (name,) = cur.fetchone()
    with db.transaction():                 # BEGIN ... COMMIT, or ROLLBACK on an exception
        cur.execute("UPDATE items SET stock = stock - 1 WHERE id = %s", (7,), name="reserve")

Placeholders are `%s` or `%(key)s` (`%%` is a percent sign). A statement's
event is named by `name=`, else by its text with literals elided. As in
psycopg, a connection not in autocommit mode begins a transaction with its
first statement and holds it until `commit()` or `rollback()`. A
statement that starts with SELECT, WITH, VALUES, SHOW or TABLE, or has
RETURNING, returns rows; any other sets `rowcount` to the rows it affected.
Values arrive as None, bool, int, float, str (numeric, uuid, json as their
text) and bytes; a column of another type fails with a hint to cast it.
"""

import contextlib
import datetime
import decimal
import re
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

from componentize_py_types import Err
from wit_world.imports import postgres as host

from ._time import micros
from .errors import WasmloadError, describe_variant

apilevel = "2.0"
threadsafety = 1
paramstyle = "pyformat"


class Error(WasmloadError):
    """A PostgreSQL call failed; the host has already recorded it."""


class InterfaceError(Error):
    """No connection, a timeout, or a value that would not convert."""


class DatabaseError(Error):
    """The server refused a statement; `sqlstate` says why (e.g. "23505")."""

    def __init__(self, sqlstate: str, message: str):
        super().__init__(f"{sqlstate} {message}")
        self.sqlstate = sqlstate
        self.pgcode = sqlstate


def _call(call, *args):
    try:
        return call(*args)
    except Err as error:
        failure = error.value
        if isinstance(failure, host.Error_Server):
            raise DatabaseError(failure.value.code, failure.value.message) from None
        raise InterfaceError(describe_variant(failure)) from None


def _to_value(value: Any):
    if value is None:
        return host.Value_Null()
    if isinstance(value, bool):
        return host.Value_Boolean(value)
    if isinstance(value, int):
        return host.Value_Int(value)
    if isinstance(value, float):
        return host.Value_Float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return host.Value_Bytes(bytes(value))
    if isinstance(value, (datetime.date, datetime.time)):
        return host.Value_Text(value.isoformat())
    # str, Decimal, UUID and anything else: as text, for the server to parse.
    return host.Value_Text(str(value))


def _from_value(value) -> Any:
    return None if isinstance(value, host.Value_Null) else value.value


_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?([s%])")
_RETURNS_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES|SHOW|TABLE)\b|\bRETURNING\b", re.IGNORECASE)


def _numbered(sql: str, params: Union[Sequence[Any], Mapping[str, Any], None]):
    """`sql` with `%s` / `%(key)s` as `$1, $2, ...`, and the values in order."""
    values: list = []
    keys: dict = {}

    def number(match):
        key, kind = match.groups()
        if kind == "%":
            return "%"
        if key is None:
            if isinstance(params, Mapping):
                raise InterfaceError("%s placeholders need a sequence of parameters")
            if params is None or len(values) >= len(params):
                raise InterfaceError("more %s placeholders than parameters")
            values.append(params[len(values)])
            return f"${len(values)}"
        if not isinstance(params, Mapping):
            raise InterfaceError(f"%({key})s needs a mapping of parameters")
        if key not in keys:
            values.append(params[key])
            keys[key] = len(values)
        return f"${keys[key]}"

    if params is None:
        return sql, []
    numbered = _PLACEHOLDER.sub(number, sql)
    if not isinstance(params, Mapping) and len(values) != len(params):
        raise InterfaceError("fewer %s placeholders than parameters")
    return numbered, values


class Cursor:
    """Runs statements on its connection and holds the last one's rows."""

    arraysize = 1

    def __init__(self, connection: "Connection"):
        self.connection = connection
        self.description: Optional[list] = None
        self.rowcount = -1
        self._rows: list = []

    def execute(self, sql: str, params=None, *, name: Optional[str] = None) -> "Cursor":
        """Runs `sql` with `params`: one event, named `name` or by its text."""
        numbered, values = _numbered(sql, params)
        self.connection._begin_if_needed()
        handle = self.connection._open()
        options = host.StatementOptions(name, micros(self.connection.timeout))
        arguments = [_to_value(value) for value in values]
        if _RETURNS_ROWS.search(numbered):
            rows = _call(handle.query, numbered, arguments, options)
            self.description = [(column, None, None, None, None, None, None) for column in rows.columns]
            self._rows = [tuple(_from_value(value) for value in row) for row in rows.rows]
            self.rowcount = len(self._rows)
        else:
            self.description = None
            self._rows = []
            self.rowcount = _call(handle.execute, numbered, arguments, options)
        return self

    def executemany(self, sql: str, seq_of_params, *, name: Optional[str] = None) -> None:
        """Runs `sql` once per parameter set: one event each."""
        total = 0
        for params in seq_of_params:
            self.execute(sql, params, name=name)
            total += max(self.rowcount, 0)
        self.rowcount = total

    def fetchone(self) -> Optional[tuple]:
        """The next row, or None."""
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: Optional[int] = None) -> list:
        """The next `size` rows (default `arraysize`)."""
        size = self.arraysize if size is None else size
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    def fetchall(self) -> list:
        """Every remaining row."""
        taken, self._rows = self._rows, []
        return taken

    def __iter__(self) -> Iterator[tuple]:
        while self._rows:
            yield self._rows.pop(0)

    def close(self) -> None:
        """Forgets the rows."""
        self._rows = []

    def setinputsizes(self, sizes) -> None:
        """Accepted and ignored, as PEP 249 allows."""

    def setoutputsize(self, size, column=None) -> None:
        """Accepted and ignored, as PEP 249 allows."""

    def __enter__(self) -> "Cursor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Connection:
    """One connection (a `connect` event); closed when dropped or by `close()`."""

    def __init__(self, dsn: str = "", timeout: Optional[float] = None):
        self._handle = _call(host.Connection.connect, dsn, host.ConnectOptions(micros(timeout)))
        self.timeout = timeout
        self.autocommit = False
        self._in_transaction = False

    def _open(self):
        """The host's connection; `InterfaceError` once `close()` was called."""
        if self._handle is None:
            raise InterfaceError("the connection is closed")
        return self._handle

    def _begin_if_needed(self) -> None:
        if not self.autocommit and not self._in_transaction:
            _call(self._open().begin)
            self._in_transaction = True

    def cursor(self) -> Cursor:
        """A new cursor."""
        return Cursor(self)

    def execute(self, sql: str, params=None, *, name: Optional[str] = None) -> Cursor:
        """A new cursor that has run `sql` (psycopg 3's shortcut)."""
        return self.cursor().execute(sql, params, name=name)

    def commit(self) -> None:
        """Commits the open transaction (a `COMMIT` event), if there is one."""
        if self._in_transaction:
            self._in_transaction = False
            _call(self._open().commit)

    def rollback(self) -> None:
        """Rolls the open transaction back (a `ROLLBACK` event), if there is one."""
        if self._in_transaction:
            self._in_transaction = False
            _call(self._open().rollback)

    @contextlib.contextmanager
    def transaction(self):
        """`BEGIN` now, `COMMIT` at the end, `ROLLBACK` if the block raises."""
        self.commit()
        _call(self._open().begin)
        self._in_transaction = True
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def close(self) -> None:
        """Closes the connection."""
        self._handle = None

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        # As psycopg2: the block's end commits, or rolls back after an exception.
        if kind is None:
            self.commit()
        else:
            self.rollback()


def connect(dsn: str = "", *, timeout: Optional[float] = None) -> Connection:
    """Connects to `dsn` (`postgres://user:password@host:port/database`); empty: `--host`."""
    return Connection(dsn, timeout)


__all__ = [
    "Connection",
    "Cursor",
    "DatabaseError",
    "Error",
    "InterfaceError",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
]
