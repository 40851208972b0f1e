"""The Gemini API's routes: ``tunedModels``, their operations and base ``models``, over one
`Store`. Request checks and JSON shapes live in `wire`; every success is HTTP 200, as Google
answers and as google-genai requires.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace

from gitops_tune.emulator import training
from gitops_tune.emulator.api import (
    ApiError,
    JsonText,
    Request,
    Response,
    Route,
    not_found,
    proto_json,
)
from gitops_tune.emulator.degrade import Degraded, worse
from gitops_tune.emulator.gemini import access, answers, resources, wire
from gitops_tune.emulator.gemini.catalog import BaseModel, load
from gitops_tune.emulator.gemini.finished import Finished
from gitops_tune.emulator.paging import Paging
from gitops_tune.emulator.store import AlreadyExists, ModelRecord, Store

TUNED_PAGES = Paging(default=10, maximum=1000)
MODEL_PAGES = Paging(default=50, maximum=1000)
ID_ATTEMPTS = 8  # generated IDs that may collide before create gives up


class GeminiDialect:
    """Handlers for the Gemini API surface over one `Store`."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        train_seconds: Callable[[], float],
        base_models: Sequence[BaseModel] | None = None,  # None: the default catalog's
        degraded: Degraded | None = None,  # models that answer wrongly (`degrade`)
    ) -> None:
        self.store = store
        self.degraded = degraded or Degraded()
        self.clock = clock
        self.train_seconds = train_seconds
        self.finished = Finished(store.kept)  # ended models' texts, kept
        self.base_models = {
            m.name: m for m in (load().gemini if base_models is None else base_models)
        }

    def routes(self) -> list[Route]:
        """Exactly Google's REST bindings for these resources (google-ai-generativelanguage's
        ``rest_base.py``; conformance/test_routes.py checks it): v1beta has the tuned-model
        resources and their operations' get and list; v1 has base models, tuned-model
        operations (with cancel) and ``generateContent``, but no tuned-model CRUD."""
        v1beta = "/v1beta"
        routes = [
            Route("GET", f"{v1beta}/models", self.list_models),
            Route("GET", f"{v1beta}/models/{{id}}", self.get_model),
            Route("POST", f"{v1beta}/tunedModels", self.create),
            Route("GET", f"{v1beta}/tunedModels", self.list),
            Route("GET", f"{v1beta}/tunedModels/{{id}}", self.get),
            Route("PATCH", f"{v1beta}/tunedModels/{{id}}", self.patch),
            Route("DELETE", f"{v1beta}/tunedModels/{{id}}", self.delete),
            Route("POST", f"{v1beta}/tunedModels/{{id}}:generateContent", self.generate_content),
        ]
        for version in ("/v1beta", "/v1"):
            routes += [
                Route("GET", f"{version}/tunedModels/{{id}}/operations", self.list_operations),
                Route("GET", f"{version}/tunedModels/{{id}}/operations/{{op}}", self.get_operation),
            ]
        routes += [
            # v1 only: Google binds no tunedModels operations :cancel under v1beta
            Route("POST", "/v1/tunedModels/{id}/operations/{op}:cancel", self.cancel_operation),
            Route("POST", "/v1/tunedModels/{id}:generateContent", self.generate_content),
            Route("GET", "/v1/models", self.list_models),
            Route("GET", "/v1/models/{id}", self.get_model),
        ]
        return routes

    def _record(self, model_id: str) -> ModelRecord:
        rec = self.store.get(model_id)
        if rec is None:
            raise not_found(f"Tuned model tunedModels/{model_id} does not exist.")
        return rec

    def _readable(self, req: Request) -> ModelRecord:
        return access.check_read(self._record(req.params["id"]), req.caller)

    def _owned(self, req: Request) -> ModelRecord:
        return access.check_write(self._record(req.params["id"]), req.caller)

    def _operation_record(self, req: Request) -> ModelRecord:
        rec = self._owned(req)
        if req.params["op"] != rec.operation_id:
            raise not_found(
                f"Operation tunedModels/{rec.id}/operations/{req.params['op']} does not exist."
            )
        return rec

    # -- tunedModels ----------------------------------------------------------------------

    def create(self, req: Request) -> Response:
        body = proto_json(req.json())
        requested_id = wire.requested_id(req.arg("tunedModelId"))
        new = wire.new_model(body, self.base_models)
        per_epoch = training.steps_per_epoch(
            len(new.examples), int(new.hyperparameters["batchSize"])
        )
        now = self.clock()
        record = ModelRecord(
            id="",
            display_name=new.display_name,
            description=new.description,
            base_model=new.base.name,
            hyperparameters=new.hyperparameters,
            sampling=new.sampling,
            create_time=now,
            update_time=now,
            train_seconds=self.train_seconds(),
            total_steps=training.total_steps(
                len(new.examples),
                int(new.hyperparameters["batchSize"]),
                int(new.hyperparameters["epochCount"]),
            ),
            steps_per_epoch=per_epoch,
            example_count=len(new.examples),
            data_seed=training.data_seed(new.examples),
            fail=re.search(rf"\b{training.FAIL_WORD}\b", new.display_name) is not None,
            operation_id="",
            owner=req.caller,
            readers=new.readers,
        )
        rec = self._insert(record, new.examples, requested_id)
        return Response(200, resources.operation_json(rec, now))

    def _insert(
        self, record: ModelRecord, examples: Sequence[tuple[str, str]], requested_id: str | None
    ) -> ModelRecord:
        """Store ``record`` under the requested ID (409 when taken) or under a generated one
        (another one when taken)."""
        for attempt in range(ID_ATTEMPTS):
            model_id = requested_id or _generated_id(record.display_name)
            rec = replace(record, id=model_id, operation_id=_random_part(OPERATION_ID_CHARS))
            try:
                self.store.insert(rec, examples)
            except AlreadyExists:
                if requested_id is not None:
                    raise ApiError(
                        409, f"Tuned model tunedModels/{model_id} already exists.", "ALREADY_EXISTS"
                    ) from None
                if attempt == ID_ATTEMPTS - 1:
                    raise
                continue
            return rec
        raise AssertionError("unreachable")

    def get(self, req: Request) -> Response:
        return Response(200, resources.tuned_model_json(self._readable(req), self.clock()))

    def list(self, req: Request) -> Response:
        size = TUNED_PAGES.size(req.arg("pageSize"))
        raw_filter = req.arg("filter") or ""
        token = req.arg("pageToken")
        after = TUNED_PAGES.decode(token, raw_filter) if token else None
        wanted = access.list_filter(raw_filter, req.caller)
        if wanted is None:
            return Response(200, {})
        records = self.store.page(
            after, size + 1, wanted.terms, owner=wanted.owner, reader=wanted.reader
        )
        now = self.clock()
        page = TUNED_PAGES.page(
            records, size, "tunedModels", lambda r: r, lambda r: r.id, raw_filter
        )
        parts = [b"{"]  # pieces, never joined: a page of 1,000 finished models is 15 MB
        if "tunedModels" in page:
            finished = self.finished.for_page(page["tunedModels"])
            parts.append(b'"tunedModels": [')
            for i, rec in enumerate(page["tunedModels"]):
                parts += [b", ", finished.text(rec, now)] if i else [finished.text(rec, now)]
            parts.append(b"]")
            finished.save()
        if "nextPageToken" in page:
            parts.append(b", " if len(parts) > 1 else b"")
            parts += [b'"nextPageToken": ', json.dumps(page["nextPageToken"]).encode()]
        return Response(200, JsonText((*parts, b"}")))

    def patch(self, req: Request) -> Response:
        model_id = req.params["id"]
        body = proto_json(req.json())
        wire.check_fields(body)
        current = self._owned(req)
        changes = wire.patch_changes(body, req.arg("updateMask"), current.base_model)
        rec = self.store.update(model_id, changes, self.clock())
        if rec is None:
            raise not_found(f"Tuned model tunedModels/{model_id} does not exist.")
        return Response(200, resources.tuned_model_json(rec, self.clock()))

    def delete(self, req: Request) -> Response:
        model_id = self._owned(req).id
        if not self.store.delete(model_id):
            raise not_found(f"Tuned model tunedModels/{model_id} does not exist.")
        return Response(200, {})

    def generate_content(self, req: Request) -> Response:
        """A tuned model answers from its training examples (`answers.answer_for`). A model
        cancelled mid-training answers too, from the examples its completed steps covered:
        the fine-tuning guide ("Canceled models") calls its inference performance
        unpredictable, particularly if the job is canceled early."""
        rec = self._readable(req)
        prog = training.progress(resources.job(rec), self.clock())
        examples = self.store.examples(rec.id)
        if prog.cancelled and prog.completed_steps:
            learned = -(-len(examples) * prog.completed_steps // max(1, rec.total_steps))
            examples = examples[: max(1, learned)]
        elif prog.state != "ACTIVE":
            raise ApiError(
                400,
                f"Tuned model tunedModels/{rec.id} is not ready for use: its state is "
                f"{prog.state}.",
                "FAILED_PRECONDITION",
            )
        body = proto_json(req.json())
        answers.check_supported(body, f"tunedModels/{rec.id}")
        prompt = answers.prompt_text(body)
        text = answers.answer_for(prompt, examples)
        if self.degraded.matches(f"tunedModels/{rec.id}", rec.display_name):
            text = worse(text, examples)
        return Response(200, answers.generate_content_json(rec.id, prompt, text))

    # -- operations -----------------------------------------------------------------------

    def get_operation(self, req: Request) -> Response:
        return Response(200, resources.operation_json(self._operation_record(req), self.clock()))

    def list_operations(self, req: Request) -> Response:
        rec = self._owned(req)
        return Response(200, {"operations": [resources.operation_json(rec, self.clock())]})

    def cancel_operation(self, req: Request) -> Response:
        """Stops training: the model stays, FAILED, and its operation ends with CANCELLED
        (code 1). Cancelling a finished operation changes nothing and succeeds."""
        rec = self._operation_record(req)
        self.store.cancel(rec.id, self.clock())
        return Response(200, {})

    # -- base models ----------------------------------------------------------------------

    def list_models(self, req: Request) -> Response:
        size = MODEL_PAGES.size(req.arg("pageSize"))
        token = req.arg("pageToken")
        after = MODEL_PAGES.decode(token, "") if token else ""
        names = sorted(n for n in self.base_models if n > after)
        out = MODEL_PAGES.page(
            names, size, "models", lambda n: self.base_models[n].to_json(), lambda n: n, ""
        )
        out.setdefault("models", [])  # listed even when empty, unlike tunedModels
        return Response(200, out)

    def get_model(self, req: Request) -> Response:
        name = f"models/{req.params['id']}"
        model = self.base_models.get(name)
        if model is None:
            raise not_found(f"Model {name} is not found for the emulated API version.")
        return Response(200, model.to_json())


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# The shapes of Google's recorded IDs (the REST tuning tutorial's run): the displayName's
# words, a hyphen and 12 random characters ("number-generator-model-dzlmi0gswwqb"), operations
# of 12 ("bvl8dymw0fhw"); 11 characters when there is no name ("az2mb0bpw6i", the API
# reference's example).
SUFFIX_CHARS = 12
OPERATION_ID_CHARS = 12
NAMELESS_ID_CHARS = 11
ID_MAX = 40


def _random_part(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def _generated_id(display_name: str) -> str:
    """Like the real API: the displayName's words joined by hyphens plus a random suffix
    (``number-generator-model-dzlmi0gswwqb``); a random ID when there are no usable words.
    Either way the ID matches the ``tunedModelId`` rule (at most 40 characters)."""
    words = re.findall(r"[a-z0-9]+", display_name.lower())
    stem = "-".join(words)[: ID_MAX - SUFFIX_CHARS - 1].strip("-")
    if stem and stem[0].isalpha():
        return f"{stem}-{_random_part(SUFFIX_CHARS)}"
    return secrets.choice(_ALPHABET[:26]) + _random_part(NAMELESS_ID_CHARS - 1)
