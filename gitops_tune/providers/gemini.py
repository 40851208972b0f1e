"""The Gemini Developer API provider: ``tunedModels`` (v1beta) through google-genai's HTTP layer.

Ownership lives in the model itself: a marker line at the end of its description,
``[gitops-tune workspace=W name=N fingerprint=F]``, after the user's own description.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import msgspec

from gitops_tune.backends import Hyperparameters
from gitops_tune.dataset import Example
from gitops_tune.providers.answers import GONE_OR_INVALID, or_none, paged
from gitops_tune.providers.base import (
    BaseModel,
    Contents,
    Migration,
    NewModel,
    Owner,
    Prompt,
    ProviderError,
    RemoteModel,
    Scores,
    Snapshot,
    State,
    TransientError,
)
from gitops_tune.providers.sdk_genai import Genai

if TYPE_CHECKING:
    from gitops_tune.settings import Settings

API_VERSION = "v1beta"
PAGE_SIZE = 1000
TUNING_METHOD = "createTunedModel"
VERTEX_HINT = (
    "Google stopped Gemini API tuning in 2025: no base model lists createTunedModel any more. "
    "Tune on Vertex AI instead, with `backend: vertex` in the Workspace and the base model "
    "spelled without 'models/', e.g. `baseModel: gemini-2.5-flash`"
)

_MARKER = re.compile(
    r"(?:\n\n)?\[gitops-tune workspace=(?P<workspace>[a-z0-9-]+) name=(?P<name>[a-z0-9-]+)"
    r" fingerprint=(?P<fingerprint>[0-9a-f]{64})(?P<protect> prevent-destroy)?"
    r"(?: eval=(?P<verdict>passed|rejected|scored)/(?P<score>[01]\.\d{4})/(?P<key>[0-9a-f]{12}))?"
    r"\]\Z"
)
_STATES = {"ACTIVE": State.ACTIVE, "FAILED": State.FAILED, "CREATING": State.TRAINING}


def format_marker(owner: Owner, scores: Scores | None = None) -> str:
    protect = " prevent-destroy" if owner.prevent_destroy else ""
    evaluated = f" eval={scores.verdict}/{scores.score:.4f}/{scores.key}" if scores else ""
    return (
        f"[gitops-tune workspace={owner.workspace} name={owner.name}"
        f" fingerprint={owner.fingerprint}{protect}{evaluated}]"
    )


def with_marker(description: str, owner: Owner, scores: Scores | None = None) -> str:
    """The user's description, then the marker (on its own paragraph when there is text)."""
    marker = format_marker(owner, scores)
    return f"{description}\n\n{marker}" if description else marker


def split_marker(description: str) -> tuple[str, Owner | None]:
    """Separate the user's description from a well-formed marker; malformed means unmanaged."""
    m = _MARKER.search(description)
    if m is None:
        return description, None
    owner = Owner(m["workspace"], m["name"], m["fingerprint"], bool(m["protect"]))
    return description[: m.start()], owner


def marker_scores(description: str) -> Scores | None:
    """The evaluation outcome the marker carries, if any."""
    m = _MARKER.search(description)
    if m is None or m["verdict"] is None:
        return None
    return Scores(m["key"], float(m["score"]), m["verdict"])


class _Task(msgspec.Struct, gc=False):
    hyperparameters: dict[str, Any] = {}
    snapshots: tuple[Snapshot, ...] = ()


class TunedModelDoc(msgspec.Struct, gc=False, rename="camel"):
    """The REST ``TunedModel`` fields we read (decoded typed: a page of 1,000 models with their
    loss curves costs a tenth of building dictionaries)."""

    name: str
    display_name: str = ""
    description: str = ""
    state: str = ""
    base_model: str = ""
    create_time: str = ""
    update_time: str = ""
    tuning_task: _Task = msgspec.field(default_factory=_Task)


class _Page(msgspec.Struct, gc=False, rename="camel"):
    tuned_models: list[TunedModelDoc] = []
    next_page_token: str = ""


def to_remote(doc: TunedModelDoc) -> RemoteModel:
    """Convert the REST TunedModel (the SDK's converters drop state and snapshots)."""
    description, owner = split_marker(doc.description)
    task = doc.tuning_task
    return RemoteModel(
        id=doc.name,
        display_name=doc.display_name,
        description=description,
        owner=owner,
        state=_STATES.get(doc.state, State.TRAINING),
        base_model=doc.base_model,
        hyperparameters=Hyperparameters.from_fields(task.hyperparameters),
        create_time=doc.create_time,
        update_time=doc.update_time,
        snapshots=task.snapshots,
        scores=marker_scores(doc.description) if owner is not None else None,
    )


class GeminiProvider:
    """``tunedModels`` through the SDK's own HTTP layer.

    Why not ``client.tunings.tune``/``get``: in google-genai 3.x the Gemini API path drops the
    training examples and learningRateMultiplier from the create body, and its converters drop
    state, hyperparameters and snapshots, so we send and read the full REST bodies through
    ``Genai.request`` (same auth, base URL and transport as the SDK).
    """

    tuning_hint = VERTEX_HINT

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        # Made on first use (`Genai`): a plan whose list came from the helper process and that
        # changes nothing never imports google-genai; a missing API key is an error there.
        self.sdk = Genai.gemini(api_key, base_url, timeout_s, API_VERSION)

    # -- Provider ----------------------------------------------------------------------------

    def list_models(self, workspace: str) -> list[RemoteModel]:
        found: list[RemoteModel] = []
        for doc in paged(self._page):
            model = to_remote(doc)
            if model.owner is not None and model.owner.workspace == workspace:
                found.append(self._cancelled(model))
        return found

    def _cancelled(self, model: RemoteModel) -> RemoteModel:
        """A FAILED model that completed some steps may have been cancelled, which its
        operation says (error code 1, CANCELLED, in google.rpc.Code): such a model is kept and
        answers, unpredictably (the fine-tuning guide, "Canceled models")."""
        if model.state is not State.FAILED or not model.snapshots:
            return model
        ops = or_none(partial(self.sdk.request, "get", f"{_resource(model.id)}/operations"))
        listed = ops.get("operations", []) if isinstance(ops, dict) else []
        if any((op.get("error") or {}).get("code") == 1 for op in listed):
            return replace(model, cancelled=True, error="cancelled mid-training")
        return model

    def _page(self, token: str) -> tuple[list[TunedModelDoc], str]:
        query = {"pageSize": PAGE_SIZE} | ({"pageToken": token} if token else {})
        page = self.sdk.request("get", f"tunedModels?{urlencode(query)}", answer=_Page)
        return page.tuned_models, page.next_page_token

    def get(self, model_id: str) -> RemoteModel | None:
        doc = or_none(partial(self.sdk.request, "get", _resource(model_id), answer=TunedModelDoc))
        return None if doc is None else self._cancelled(to_remote(doc))

    def base_model(self, name: str) -> BaseModel | None:
        path = name if name.startswith("models/") else f"models/{name}"
        doc = or_none(partial(self.sdk.request, "get", quote(path, safe="/-._")), GONE_OR_INVALID)
        if doc is None:
            return None
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
                            {"textInput": e.text_input, "output": e.output}
                            for e in new.examples()
                            if isinstance(e, Example)  # chat rows never resolve for this API
                        ]
                    }
                },
            },
        }
        path = f"tunedModels?{urlencode({'tunedModelId': new.model_id})}"
        # 409, already there: a retried create whose first answer was lost, or a concurrent run.
        or_none(partial(self.sdk.request, "post", path, body), {409})
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

    def update(
        self,
        model_id: str,
        display_name: str,
        description: str,
        owner: Owner,
        serving: str = "",  # the Gemini API has no checkpoints (refused at load)
    ) -> None:
        """Patch the display name and description; an evaluation outcome in the marker stays
        (it is read first)."""
        now = self.get(model_id)
        scores = now.scores if now is not None else None
        body = {"displayName": display_name, "description": with_marker(description, owner, scores)}
        self.sdk.request("patch", f"{_resource(model_id)}?updateMask=displayName,description", body)

    def record_scores(self, model_id: str, scores: Scores) -> None:
        now = self.get(model_id)
        if now is None or now.owner is None:
            raise ProviderError(f"{_resource(model_id)} is gone or not managed", 404)
        body = {"description": with_marker(now.description, now.owner, scores)}
        self.sdk.request("patch", f"{_resource(model_id)}?updateMask=description", body)

    def generate(self, model: RemoteModel, prompt: Prompt) -> tuple[str, int]:
        return self.sdk.generate(_resource(model.call_name), prompt)

    def cancel(self, model_id: str) -> None:
        """Stop the model's training by deleting the model: the v1beta API has no cancel for
        tuning operations (Google binds ``operations/*:cancel`` for tuned models on v1 only,
        and the tuned-model resources on v1beta only), so a delete is the one call that stops
        a run. A model already gone is fine."""
        self.delete(model_id)

    def delete(self, model_id: str) -> None:
        or_none(partial(self.sdk.request, "delete", _resource(model_id)))

    def migration(self) -> Migration | None:
        return None  # the marker has always lived on the tuned model itself

    def migrate(self) -> None:
        pass

    def listing_state(self) -> None:
        return None  # a list learns nothing but the models

    def adopt_listing_state(self, state: Any) -> None:
        pass

    def count_tokens(self, base_model: str, contents: Contents, resolution: str | None) -> int:
        """``models/{model}:countTokens`` (v1beta), through ``models.count_tokens``."""
        return self.sdk.count_tokens(base_model, contents, resolution)


def _resource(model_id: str) -> str:
    return model_id if model_id.startswith("tunedModels/") else f"tunedModels/{model_id}"


def open(settings: Settings) -> GeminiProvider:
    """The Gemini API; the SDK reads the key from GEMINI_API_KEY or GOOGLE_API_KEY."""
    return GeminiProvider()
