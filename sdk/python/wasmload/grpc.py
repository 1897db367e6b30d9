"""gRPC calls with protobuf messages as bytes (encode them in the guest)."""

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from componentize_py_types import Err
from wit_world.imports import grpc as host

from ._time import micros
from .errors import WasmloadError


class GrpcError(WasmloadError):
    """The call ended without a reply; `code` is the gRPC status code, if any."""

    def __init__(self, message: str, code: Optional[int] = None):
        super().__init__(message)
        self.code = code


@dataclass
class Reply:
    """What came back: the reply messages, and headers and trailers."""

    messages: List[bytes]
    metadata: List[Tuple[str, str]]

    @property
    def message(self) -> bytes:
        """The single message of a unary reply."""
        return self.messages[0] if self.messages else b""


def _call(
    function,
    method: str,
    message: bytes,
    *,
    endpoint: Optional[str] = None,
    metadata: Optional[Dict[str, str]] = None,
    timeout: Optional[float] = None,
) -> Reply:
    pairs = list(metadata.items()) if isinstance(metadata, dict) else list(metadata or [])
    try:
        reply = function(method, message, host.CallOptions(endpoint, pairs, micros(timeout)))
    except Err as error:
        if isinstance(error.value, host.Error_Status):
            status = error.value.value
            raise GrpcError(f"status {status.code}: {status.message}", status.code) from None
        raise GrpcError(f"invalid request: {error.value.value}") from None
    return Reply(list(reply.messages), list(reply.metadata))


def unary(method: str, message: bytes, **options) -> Reply:
    """A unary call of `method` (`/package.Service/Method`); raises `GrpcError`.
    Options: `endpoint` (default `--host`), `metadata`, `timeout` (seconds)."""
    return _call(host.unary, method, message, **options)


def server_streaming(method: str, message: bytes, **options) -> Reply:
    """A server-streaming call: every message the server sends, collected.
    Options as for `unary`."""
    return _call(host.server_streaming, method, message, **options)
