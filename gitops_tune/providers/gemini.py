"""The Gemini Developer API provider: ``tunedModels`` (v1beta) through google-genai.

Ownership lives in the model itself: a marker line at the end of its description,
``[gitops-tune workspace=W name=N fingerprint=F]``, after the user's own description.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from gitops_tune.backends import Hyperparameters
from gitops_tune.providers.base import (
    BaseModel,
    NewModel,
    Owner,
    ProviderError,
    RemoteModel,
    Snapshot,
    State,
    TransientError,
)

if TYPE_CHECKING:
    from google.genai import Client

    from gitops_tune.settings import Settings

API_VERSION = "v1beta"
PAGE_SIZE = 1000
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TUNING_METHOD = "createTunedModel"
VERTEX_HINT = (
    "Google now runs Gemini tuning on Vertex AI: consider `backend: vertex` in the Workspace"
)

_MARKER = re.compile(
    r"(?:\n\n)?\[gitops-tune workspace=(?P<workspace>[a-z0-9-]+) name=(?P<name>[a-z0-9-]+)"
    r" fingerprint=(?P<fingerprint>[0-9a-f]{64})(?P<protect> prevent-destroy)?\]\Z"
)
_STATES = {"ACTIVE": State.ACTIVE, "FAILED": State.FAILED, "CREATING": State.TRAINING}


def format_marker(owner: Owner) -> str:
    protect = " prevent-destroy" if owner.prevent_destroy else ""
    return (
        f"[gitops-tune workspace={owner.workspace} name={owner.name}"
        f" fingerprint={owner.fingerprint}{protect}]"
    )


def with_marker(description: str, owner: Owner) -> str:
    """The user's description, then the marker (on its own paragraph when there is text)."""
    marker = format_marker(owner)
    return f"{description}\n\n{marker}" if description else marker


def split_marker(description: str) -> tuple[str, Owner | None]:
    """Separate the user's description from a well-formed marker; malformed means unmanaged."""
    m = _MARKER.search(description)
    if m is None:
        return description, None
    owner = Owner(m["workspace"], m["name"], m["fingerprint"], bool(m["protect"]))
    return description[: m.start()], owner


def to_remote(doc: dict[str, Any]) -> RemoteModel:
    """Convert the REST TunedModel JSON (the SDK's converters drop state and snapshots)."""
    description, owner = split_marker(doc.get("description", ""))
    task = doc.get("tuningTask", {})
    snapshots = tuple(
        Snapshot(int(s.get("step", 0)), int(s.get("epoch", 0)), float(s.get("meanLoss", 0.0)))
        for s in task.get("snapshots", [])
    )
    return RemoteModel(
        id=doc["name"],
        display_name=doc.get("displayName", ""),
        description=description,
        owner=owner,
        state=_STATES.get(doc.get("state", ""), State.TRAINING),
        base_model=doc.get("baseModel", ""),
        hyperparameters=Hyperparameters.from_fields(task.get("hyperparameters", {})),
        create_time=doc.get("createTime", ""),
        update_time=doc.get("updateTime", ""),
        snapshots=snapshots,
    )


class GeminiProvider:
    """``tunedModels`` through the SDK's own HTTP layer.

    Why not ``client.tunings.tune``/``get``: in google-genai 3.x the Gemini API path drops the
    training examples and learningRateMultiplier from the create body, and its converters drop
    state, hyperparameters and snapshots, so we send and read the full REST bodies through
    ``client._api_client.request`` (same auth, base URL and transport as the SDK).
    """

    tuning_hint = VERTEX_HINT

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(api_version=API_VERSION, timeout=int(timeout_s * 1000))
        if base_url:
            options.base_url = base_url
        try:
            self._client: Client = genai.Client(api_key=api_key, http_options=options)
        except ValueError as e:  # the SDK's "No API key was provided"
            raise ProviderError(
                "no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) for the gemini backend"
            ) from e

    # -- transport ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        from google.genai import errors

        try:
            response = self._client._api_client.request(method, path, body or {})
        except errors.APIError as e:
            raise _provider_error(
                e, f"{method.upper()} {path.split('?')[0]}", self._redact
            ) from None
        except Exception as e:
            if _is_transport_error(e):
                raise TransientError(
                    self._redact(f"{method.upper()} {path.split('?')[0]}: {type(e).__name__}: {e}")
                ) from None
            raise
        return json.loads(response.body) if response.body else {}

    def _redact(self, text: str) -> str:
        """Error text comes from the server; one that echoes the request back (a proxy, a broken
        or hostile endpoint) must not make us print the API key."""
        key = getattr(self._client._api_client, "api_key", None)
        return text.replace(key, "[redacted]") if isinstance(key, str) and key else text

    # -- Provider ----------------------------------------------------------------------------

    def list_models(self, workspace: str) -> list[RemoteModel]:
        found: list[RemoteModel] = []
        for doc in self._list_raw():
            model = to_remote(doc)
            if model.owner is not None and model.owner.workspace == workspace:
                found.append(model)
        return found

    def _list_raw(self) -> Iterator[dict[str, Any]]:
        token = ""
        while True:
            query = {"pageSize": PAGE_SIZE} | ({"pageToken": token} if token else {})
            page = self._request("get", f"tunedModels?{urlencode(query)}")
            yield from page.get("tunedModels", [])
            token = page.get("nextPageToken", "")
            if not token:
                return

    def get(self, model_id: str) -> RemoteModel | None:
        try:
            return to_remote(self._request("get", _resource(model_id)))
        except ProviderError as e:
            if e.status == 404:
                return None
            raise

    def base_model(self, name: str) -> BaseModel | None:
        path = name if name.startswith("models/") else f"models/{name}"
        try:
            doc = self._request("get", quote(path, safe="/-._"))
        except ProviderError as e:
            if e.status in (400, 404):
                return None
            raise
        methods = doc.get("supportedGenerationMethods", [])
        return BaseModel(doc.get("name", path), TUNING_METHOD in methods)

    def create(self, new: NewModel) -> RemoteModel:
        body: dict[str, Any] = {
            "displayName": new.display_name,
            "description": with_marker(new.description, new.owner),
            "baseModel": new.base_model,
            "tuningTask": {
                "hyperparameters": new.hyperparameters.fields(),
                "trainingData": {
                    "examples": {
                        "examples": [
                            {"textInput": e.text_input, "output": e.output} for e in new.examples()
                        ]
                    }
                },
            },
        }
        path = f"tunedModels?{urlencode({'tunedModelId': new.model_id})}"
        try:
            self._request("post", path, body)
        except ProviderError as e:
            if e.status != 409:
                raise
            # Already there: a retried create whose first answer was lost, or a concurrent run.
        existing = self.get(new.model_id)
        if existing is None:
            raise TransientError(f"tunedModels/{new.model_id} was created but cannot be read yet")
        if existing.owner != new.owner:
            raise ProviderError(
                f"tunedModels/{new.model_id} already exists and is not this manifest's model "
                f"(owner {existing.owner}); refusing to adopt it",
                409,
            )
        return existing

    def update(self, model_id: str, display_name: str, description: str, owner: Owner) -> None:
        body = {"displayName": display_name, "description": with_marker(description, owner)}
        self._request("patch", f"{_resource(model_id)}?updateMask=displayName,description", body)

    def cancel(self, model_id: str) -> None:
        """Cancel the model's running tuning operations. A model already done is left as is."""
        try:
            page = self._request("get", f"{_resource(model_id)}/operations")
        except ProviderError as e:
            if e.status == 404:
                return
            raise
        for op in page.get("operations", []):
            if not op.get("done"):
                try:
                    self._request("post", f"{op['name']}:cancel")
                except ProviderError as e:
                    if e.status not in (400, 404):  # already finished or gone
                        raise

    def delete(self, model_id: str) -> None:
        try:
            self._request("delete", _resource(model_id))
        except ProviderError as e:
            if e.status != 404:
                raise


def _resource(model_id: str) -> str:
    return model_id if model_id.startswith("tunedModels/") else f"tunedModels/{model_id}"


def _provider_error(e: Any, what: str, redact: Callable[[str], str] = str) -> ProviderError:
    code = int(getattr(e, "code", 0) or 0)
    message = f"{what}: {code} {getattr(e, 'status', '') or ''}: {getattr(e, 'message', '') or e}"
    message = redact(message)
    if code in TRANSIENT_STATUSES:
        retry_after = None
        response = getattr(e, "response", None)
        headers = getattr(response, "headers", None) or {}
        raw = headers.get("retry-after") if hasattr(headers, "get") else None
        if raw:
            try:
                retry_after = float(raw)
            except ValueError:
                retry_after = None
        return TransientError(message, code, retry_after)
    return ProviderError(message, code)


def _is_transport_error(e: Exception) -> bool:
    """httpx/httpx2 transport failures (timeouts, refused, dropped) are worth a retry."""
    for module_name in ("httpx", "httpx2"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        transport = getattr(module, "TransportError", None)
        if transport is not None and isinstance(e, transport):
            return True
    return False


def open(settings: Settings) -> GeminiProvider:
    """The Gemini API; the SDK reads the key from GEMINI_API_KEY or GOOGLE_API_KEY."""
    return GeminiProvider()
