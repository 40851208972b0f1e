"""Transport-neutral pieces shared by the server and its REST dialects.

A dialect (the Gemini API, Vertex AI, Cloud Storage) is a list of `Route`s: a method, a path
template such as ``/v1beta/tunedModels/{id}:generateContent``, and a handler from `Request` to
`Response`. The server owns sockets, auth, latency, faults and stats; handlers own meaning.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# google.rpc.Code names for the HTTP statuses the emulator answers with.
STATUS_NAMES: Mapping[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An answer in Google's error envelope ``{"error": {"code", "message", "status"}}``."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = list(details)
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def response(self) -> Response:
        return Response(self.code, self.envelope(), dict(self.headers))


def invalid(message: str) -> ApiError:
    return ApiError(400, message, "INVALID_ARGUMENT")


def reject_unknown(obj: Mapping[str, Any], known: Iterable[str], path: str) -> None:
    """Google's answer to a JSON field the message type does not have."""
    unknown = sorted(set(obj) - set(known))
    if unknown:
        raise invalid(
            f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at '{path}': "
            "Cannot find field."
        )


def _lower_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def proto_json(value: Any, maps: frozenset[str] = frozenset(), path: str = "") -> Any:
    """A request body with proto3 JSON's field-name rule applied: a parser accepts the
    lowerCamelCase JSON name and the original snake_case proto name alike, so both become
    the camelCase name here. Keys inside a map field (``maps``, camelCase names such as
    ``labels``) are data and stay as sent. The same field twice is refused, as Google's
    parser does."""
    if isinstance(value, list):
        return [proto_json(v, maps, path) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _lower_camel(key) if "_" in key and not key.startswith("@") else key
        if name in out:
            raise invalid(f"Invalid JSON payload received. Duplicate field \"{name}\" at '{path}'.")
        out[name] = item if name in maps else proto_json(item, maps, f"{path}.{name}".strip("."))
    return out


def mask_paths(mask: str | None) -> list[str]:
    """A ``google.protobuf.FieldMask`` from a query parameter: comma-separated paths, each in
    the proto's snake_case or in lowerCamelCase (parsers take both), as camelCase paths."""
    return [
        ".".join(_lower_camel(p) for p in path.strip().split("."))
        for path in (mask or "").split(",")
        if path.strip()
    ]


def proto_number(value: object) -> float | None:
    """A proto3 JSON number: a JSON number, or a string holding one (int64 travels as a
    string, and parsers take any number that way); None for anything else (bools, NaN and
    infinities too)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if isinstance(value, str) and value.strip() != value:
        return None
    return number if math.isfinite(number) else None


INT64_MAX = 2**63 - 1


def positive_int(value: object, path: str) -> int:
    """A proto3 JSON integer field (int32/int64: a JSON number or a decimal string) that must
    be at least 1; anything else, or a value past int64, is a 400."""
    number = proto_number(value)
    if number is not None and number == int(number) and 1 <= number <= INT64_MAX:
        return int(number)
    raise invalid(f"{path} must be a positive integer, got {json.dumps(value)}.")


def positive_number(value: object, path: str) -> float:
    """A proto3 JSON float/double field that must be greater than 0."""
    number = proto_number(value)
    if number is not None and number > 0:
        return number
    raise invalid(f"{path} must be a positive number, got {json.dumps(value)}.")


def proto_enum(value: object, values: Mapping[str, int], path: str) -> str:
    """A proto3 JSON enum field: its value's name, or its number (parsers take both); the
    name is returned. ``values`` maps every name but ``*_UNSPECIFIED`` to its number."""
    if isinstance(value, str) and value in values:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        for name, number in values.items():
            if number == value:
                return name
    raise invalid(f"Invalid value at '{path}': {json.dumps(value)}; one of {', '.join(values)}.")


def not_found(message: str) -> ApiError:
    return ApiError(404, message, "NOT_FOUND")


@dataclass(frozen=True)
class Request:
    method: str  # upper case
    path: str  # decoded, without the query string
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""
    params: Mapping[str, str] = field(default_factory=dict)  # from the route template
    caller: str = ""  # the calling project, set by the server (see `callers`)

    def arg(self, name: str) -> str | None:
        """The last value of a query parameter, or None."""
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body is ``{}``."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise invalid(f"Invalid JSON payload received. {e}") from None
        if not isinstance(value, dict):
            raise invalid("Invalid JSON payload received. The body must be a JSON object.")
        return value


@dataclass(frozen=True)
class JsonText:
    """A JSON answer already encoded (UTF-8), in pieces sent one after the other as they are:
    a list of 1,000 finished models is 15 MB of kept texts, never joined into one string."""

    chunks: tuple[bytes, ...]

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chunks)

    def value(self) -> Any:
        return json.loads(b"".join(self.chunks))

    def blocks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The answer in blocks of about ``size`` bytes, for the socket."""
        batch: list[bytes] = []
        held = 0
        for chunk in self.chunks:
            batch.append(chunk)
            held += len(chunk)
            if held >= size:
                yield b"".join(batch)
                batch, held = [], 0
        if batch:
            yield b"".join(batch)


@dataclass
class Response:
    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[JsonText, str]:
        """(the body as bytes to send, its Content-Type); takes a media body's Content-Type
        out of ``headers``."""
        if isinstance(self.body, bytes):  # media (a Cloud Storage download)
            return JsonText((self.body,)), self.headers.pop(
                "Content-Type", "application/octet-stream"
            )
        text = self.body if isinstance(self.body, JsonText) else None
        if text is None:
            text = JsonText((json.dumps(self.body, ensure_ascii=False).encode("utf-8"),))
        return text, "application/json; charset=UTF-8"


Handler = Callable[[Request], Response]

_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(\*?)\}")
Auth = str  # "api_key" (Gemini API), "bearer" (OAuth, Vertex AI) or "none" (Cloud Storage)


@dataclass(frozen=True)
class Route:
    """``template`` names path parameters in braces; a parameter never spans ``/`` or ``:``,
    except a greedy one written ``{name*}`` (a Cloud Storage object name)."""

    method: str
    template: str
    handler: Handler = field(compare=False)
    api: bool = True  # False: an emulator control route (no auth, latency or faults)
    auth: Auth = "api_key"  # what an API route requires of the caller
    pattern: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        parts: list[str] = []
        last = 0
        for m in _PARAM.finditer(self.template):
            parts.append(re.escape(self.template[last : m.start()]))
            parts.append(f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/:]+)")
            last = m.end()
        parts.append(re.escape(self.template[last:]))
        object.__setattr__(self, "pattern", re.compile("".join(parts) + r"\Z"))

    @property
    def key(self) -> str:
        """The stats key, e.g. ``"GET /v1beta/tunedModels/{id}"``."""
        return f"{self.method} {self.template}"


class Router:
    """Routes from any number of dialects on one server; first match wins."""

    def __init__(self, routes: Sequence[Route] = ()) -> None:
        self._routes: list[Route] = []
        for route in routes:
            self.add(route)

    def add(self, route: Route) -> None:
        if any(r.method == route.method and r.template == route.template for r in self._routes):
            raise ValueError(f"duplicate route {route.key}")
        self._routes.append(route)

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self._routes:
            if route.method != method:
                continue
            m = route.pattern.match(path)
            if m is not None:
                return route, m.groupdict()
        return None
