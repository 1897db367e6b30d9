"""The exceptions the SDK raises."""

from componentize_py_types import Err


class WasmloadError(Exception):
    """A protocol call got no answer; the host has already recorded a failed event."""


class CheckFailed(WasmloadError):
    """A check on an answer failed; the request is already marked failed."""


def describe_variant(error) -> str:
    """Readable text for a WIT error variant such as `Error_Connect("refused")`."""
    kind = type(error).__name__.split("_", 1)[-1]
    words = "".join(" " + c.lower() if c.isupper() else c for c in kind).strip()
    value = getattr(error, "value", None)
    return f"{words}: {value}" if value not in (None, "") else words


def unwrap(call, *args):
    """Calls a WIT import, turning its `Err` into a `WasmloadError`."""
    try:
        return call(*args)
    except Err as error:
        raise WasmloadError(describe_variant(error.value)) from None
