"""XML-RPC calls over the user's HTTP session, with plain Python values:
int, bool, str, float, bytes (base64), None (nil), list, dict and `DateTime`."""

from dataclasses import dataclass
from typing import Any, Iterator, List, Optional

from componentize_py_types import Err
from wit_world.imports import xmlrpc as host

from .errors import WasmloadError, describe_variant


@dataclass(frozen=True)
class DateTime:
    """A `dateTime.iso8601` value, as its text (e.g. `20261125T12:30:00`)."""

    text: str


class XmlRpcError(WasmloadError):
    """No value came back; `fault_code` is set when the server sent a `<fault>`."""

    def __init__(self, message: str, fault_code: Optional[int] = None):
        super().__init__(message)
        self.fault_code = fault_code


def _flatten(value: Any, nodes: List[host.Node]) -> None:
    # bool before int: True is an int in Python.
    if isinstance(value, bool):
        nodes.append(host.Node_Boolean(value))
    elif isinstance(value, int):
        nodes.append(host.Node_Int(value))
    elif isinstance(value, str):
        nodes.append(host.Node_String(value))
    elif isinstance(value, float):
        nodes.append(host.Node_Double(value))
    elif isinstance(value, DateTime):
        nodes.append(host.Node_Datetime(value.text))
    elif isinstance(value, (bytes, bytearray)):
        nodes.append(host.Node_Base64(bytes(value)))
    elif value is None:
        nodes.append(host.Node_Nil())
    elif isinstance(value, (list, tuple)):
        nodes.append(host.Node_Array(len(value)))
        for item in value:
            _flatten(item, nodes)
    elif isinstance(value, dict):
        nodes.append(host.Node_Struct([str(k) for k in value]))
        for item in value.values():
            _flatten(item, nodes)
    else:
        raise TypeError(f"XML-RPC cannot carry {type(value).__name__}")


def _rebuild(nodes: Iterator[host.Node]) -> Any:
    node = next(nodes)
    if isinstance(node, host.Node_Nil):
        return None
    if isinstance(node, host.Node_Datetime):
        return DateTime(node.value)
    if isinstance(node, host.Node_Array):
        return [_rebuild(nodes) for _ in range(node.value)]
    if isinstance(node, host.Node_Struct):
        return {name: _rebuild(nodes) for name in node.value}
    return node.value


def call(url: str, method: str, *params: Any) -> Any:
    """Calls `method` at `url` (absolute, or a path under `--host`) and returns
    its value; raises `XmlRpcError` on a fault or when nothing came back."""
    nodes: List[host.Node] = []
    for param in params:
        _flatten(param, nodes)
    try:
        answer = host.call(url, method, nodes)
    except Err as error:
        if isinstance(error.value, host.Error_Fault):
            fault = error.value.value
            raise XmlRpcError(f"fault {fault.code}: {fault.message}", fault.code) from None
        raise XmlRpcError(describe_variant(error.value)) from None
    return _rebuild(iter(answer))
