"""Google's REST bindings, read at run time from Google's own packages (no hand copy).

- The Gemini API: ``google-ai-generativelanguage``, ``services/*/transports/rest_base.py``
  (each ``_Base<Method>._get_http_options()``), the request and response message types from
  the ``__call__`` signature of the matching class in ``rest.py``.
- Vertex AI: the same, from ``google-cloud-aiplatform`` (``aiplatform_v1``, ``aiplatform_v1beta1``).
- Cloud Storage: the discovery document ``storage.v1.json`` shipped in
  ``google-api-python-client``.

A `Binding` is one (HTTP method, URI template) of one RPC. Its ``pattern`` matches concrete
paths the way Google's HTTP rule does: ``*`` is one path segment, ``**`` the rest.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

# (package, API versions, services) whose bindings the emulator may serve.
GEMINI = (
    "google.ai.generativelanguage",
    ("v1beta", "v1"),
    ("model_service", "generative_service", "permission_service"),
)
VERTEX = (
    "google.cloud.aiplatform",
    ("v1beta1", "v1"),
    (
        "gen_ai_tuning_service",
        "model_service",
        "endpoint_service",
        "model_garden_service",
        "prediction_service",
    ),
)
# Long-running-operation mixins every service repeats. Vertex AI's are hundreds of routes over
# every resource: of those only GetOperation counts (the tool polls deletes and undeploys).
MIXINS = ("GetOperation", "ListOperations", "CancelOperation", "DeleteOperation", "WaitOperation")
MIXIN_APIS = ("google.ai.generativelanguage",)
VERTEX_MIXINS = ("GetOperation",)
IAM_AND_LOCATIONS = ("IamPolicy", "TestIamPermissions", "Location")


@dataclass(frozen=True)
class Binding:
    api: str  # "generativelanguage v1beta", "aiplatform v1", "storage v1"
    service: str  # "ModelService", "Operations", "objects"
    method: str  # "CreateTunedModel", "insert"
    http_method: str  # upper case
    uri: str  # as published: "/v1beta/{name=tunedModels/*}"
    body: str | None = None  # the request field sent as the body, "*" for all of it
    request: Any = field(default=None, compare=False, repr=False)  # pb2 class / schema name
    response: Any = field(default=None, compare=False, repr=False)

    @property
    def rpc(self) -> str:
        return f"{self.service}.{self.method}"

    @property
    def pattern(self) -> re.Pattern[str]:
        return uri_pattern(self.uri)


def uri_pattern(uri: str) -> re.Pattern[str]:
    """``/v1beta/{name=tunedModels/*}:cancel`` -> a regex over concrete paths."""
    out: list[str] = []
    last = 0
    for m in re.finditer(r"\{([^}=]+)(?:=([^}]*))?\}", uri):
        out.append(_literal(uri[last : m.start()]))
        out.append(_segments(m.group(2) or "*"))
        last = m.end()
    out.append(_literal(uri[last:]))
    return re.compile("".join(out) + r"\Z")


def _literal(text: str) -> str:
    return re.escape(text).replace(r"\*\*", ".+").replace(r"\*", "[^/]+")


def _segments(template: str) -> str:
    return "/".join(
        ".+" if part == "**" else "[^/:]+" if part == "*" else re.escape(part)
        for part in template.split("/")
    )


def _pb(cls: Any) -> Any:
    """The protobuf class of a proto-plus class (a protobuf class is returned as is)."""
    return cls.pb() if hasattr(cls, "pb") and callable(cls.pb) and hasattr(cls, "meta") else cls


def _signature(rest_cls: Any, method: str) -> tuple[Any, Any]:
    call = getattr(rest_cls, f"_{method}").__call__
    module = inspect.getmodule(rest_cls)
    hints = typing.get_type_hints(call, vars(module))
    response = hints.get("return")
    return _pb(hints["request"]), None if response is type(None) else _pb(response)


def _service_bindings(package: str, version: str, service: str) -> list[Binding]:
    transports = f"{package}_{version}.services.{service}.transports"
    try:
        base_module = importlib.import_module(f"{transports}.rest_base")
    except ModuleNotFoundError:  # not every service exists in every version
        return []
    rest_module = importlib.import_module(f"{transports}.rest")
    title = "".join(p.title() for p in service.split("_"))
    base_cls = next(
        c
        for n, c in vars(base_module).items()
        if n.startswith("_Base") and n.endswith("RestTransport")
    )
    rest_cls = next(
        c
        for n, c in vars(rest_module).items()
        if inspect.isclass(c) and n.endswith("RestTransport") and not n.startswith("_")
    )
    api = f"{package.split('.')[-1]} {version}"
    out: list[Binding] = []
    for name, inner in vars(base_cls).items():
        method = name.removeprefix("_Base")
        if not name.startswith("_Base") or not hasattr(inner, "_get_http_options"):
            continue
        if any(word in method for word in IAM_AND_LOCATIONS):
            continue
        mixin = method in MIXINS
        if mixin and package not in MIXIN_APIS and method not in VERTEX_MIXINS:
            continue
        request, response = _signature(rest_cls, method)
        for option in inner._get_http_options():
            out.append(
                Binding(
                    api=api,
                    service="Operations" if mixin else title,
                    method=method,
                    http_method=option["method"].upper(),
                    uri=option["uri"],
                    body=option.get("body"),
                    request=request,
                    response=response,
                )
            )
    return out


@cache
def discovery_document(name: str = "storage.v1.json") -> dict[str, Any]:
    """A discovery document shipped in google-api-python-client, read once (callers read it,
    never change it)."""
    import googleapiclient

    folder = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
    return dict(json.loads((folder / name).read_text(encoding="utf-8")))


def _storage_bindings() -> list[Binding]:
    doc = discovery_document()
    base = "/" + doc["servicePath"]  # "/storage/v1/"
    out: list[Binding] = []
    for resource in ("buckets", "objects"):
        for name, m in doc["resources"][resource]["methods"].items():
            paths = [(m["httpMethod"], base + m["path"])]
            protocols = m.get("mediaUpload", {}).get("protocols", {})
            upload = protocols.get("simple", {}).get("path")
            if upload:
                paths.append((m["httpMethod"], upload))
            paths += _resumable(protocols, upload)
            if m.get("useMediaDownloadService"):
                paths.append((m["httpMethod"], "/download" + base + m["path"]))
            for http_method, path in paths:
                out.append(
                    Binding(
                        api="storage v1",
                        service=resource,
                        method=name,
                        http_method=http_method,
                        # {object} is a whole object name, slashes included
                        uri=path.replace("{object}", "{object=**}"),
                        body="*" if "request" in m else None,
                        request=m.get("request", {}).get("$ref"),
                        response=m.get("response", {}).get("$ref"),
                    )
                )
    return out


def _resumable(protocols: dict[str, Any], upload: str | None) -> list[tuple[str, str]]:
    """A method with the ``resumable`` upload protocol: its own initiation path, and the
    session URI's chunk ``PUT`` and cancelling ``DELETE``. Google's "Perform resumable
    uploads" page (JSON API) gives the session URI as the upload path with ``upload_id``
    (google-cloud-storage and googleapiclient's ``MediaUpload`` follow the ``Location``)."""
    path = protocols.get("resumable", {}).get("path")
    if not path:
        return []
    sessions = [("PUT", upload), ("DELETE", upload)] if upload else []
    return [("POST", path), *sessions]


@cache
def bindings() -> tuple[Binding, ...]:
    """Every binding of the services the emulator may serve, deduplicated (the operation
    mixins repeat in each service)."""
    seen: dict[tuple[str, str], Binding] = {}
    for package, versions, services in (GEMINI, VERTEX):
        for version in versions:
            for service in services:
                for b in _service_bindings(package, version, service):
                    seen.setdefault((b.http_method, b.uri), b)
    for b in _storage_bindings():
        seen.setdefault((b.http_method, b.uri), b)
    return tuple(seen.values())


def binding_for(http_method: str, path: str) -> Binding | None:
    """The binding a concrete request path goes to, as Google's front end would route it: the
    first binding whose pattern matches (literal-rich bindings before wildcard ones)."""
    found = [b for b in bindings() if b.http_method == http_method and b.pattern.match(path)]
    found.sort(key=lambda b: -len(re.sub(r"\{[^}]*\}", "", b.uri)))
    return found[0] if found else None


def sample_path(template: str) -> str:
    """A concrete path for an emulator route template (``{id}`` -> ``id1``, ``{object*}`` ->
    ``a/b.jsonl``)."""
    path = re.sub(r"\{[a-zA-Z_]+\*\}", "dir/file.jsonl", template)
    return re.sub(r"\{([a-zA-Z_]+)\}", lambda m: f"{m.group(1).lower()}1", path)
