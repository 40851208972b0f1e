"""Vertex AI ``tuningJobs`` under ``/{v1beta1|v1}/projects/{project}/locations/{location}``:
create, get, list (newest first, filtered on labels) and cancel (asynchronous: the job is
``CANCELLING`` for a while, see `timeline`).

Training data is read from the emulator's own Cloud Storage (`gcs`). Callers need an OAuth
bearer token (any non-empty one).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gitops_tune.emulator import training
from gitops_tune.emulator.api import ApiError, Request, Response, Route, invalid, not_found
from gitops_tune.emulator.gcs import KIND_OBJECT
from gitops_tune.emulator.gemini import answers
from gitops_tune.emulator.paging import Paging
from gitops_tune.emulator.store import Store
from gitops_tune.emulator.vertex import evaluation, methods, resources, timeline, wire
from gitops_tune.emulator.vertex.wire import KIND_JOB

PAGES = Paging(
    default=100,
    maximum=1000,
    token_key="last",
    not_integer="Invalid value at 'page_size' (TYPE_INT32): {raw!r}.",
    negative="page_size must not be negative.",
)


def read_examples(store: Store, uri: str, path: str) -> tuple[int, int]:
    """Validate a supervised-tuning JSONL object; (examples, characters)."""
    bucket, name = wire.gs_uri(uri, path)
    if store.get_doc(KIND_OBJECT, f"{bucket}/{name}") is None:
        raise invalid(f"{path}: {uri} does not exist or cannot be read.")
    return wire.count_examples(
        store.get_blob(bucket, name) or b"", uri, path, lambda b, n: _content_type(store, b, n)
    )


def _content_type(store: Store, bucket: str, name: str) -> str | None:
    doc = store.get_doc(KIND_OBJECT, f"{bucket}/{name}")
    return None if doc is None else str(doc.get("contentType", ""))


def _resource_id() -> str:
    return str(secrets.randbelow(10**18) + 10**18)


def _sort_key(doc: dict[str, Any]) -> str:
    return str(doc["id"]).zfill(24)


def _echoed(new: wire.NewJob, pre: dict[str, str] | None) -> dict[str, Any]:
    """What the job echoes of its create request besides the data and hyperparameters."""
    return {
        "pre_tuned_model": pre,
        "service_account": new.service_account,
        "encryption_spec": new.encryption_spec,
    }


def _hyper(new: wire.NewJob, base: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the hyperparameters every method has, defaults filled in; the method's own)."""
    if new.method == "supervised":
        return wire.hyperparameters(new.spec, base), {}
    common, own = methods.split_hyper(new.method, new.spec)
    return wire.hyperparameters({**new.spec, "hyperParameters": common}, base), own


class TuningJobs:
    """Handlers for ``tuningJobs`` over one `Store`."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        train_seconds: Callable[[], float],
        tunable: Sequence[str] = wire.TUNABLE_BASE_MODELS,  # the catalog's (`gemini.catalog`)
        offered: Mapping[str, Sequence[str]] | None = None,  # method -> its base models
    ) -> None:
        self.methods = dict(offered or {})
        self.store = store
        self.clock = clock
        self.train_seconds = train_seconds
        self.tunable = tuple(tunable)

    def routes(self) -> list[Route]:
        jobs = f"{wire.LOCATION}/tuningJobs"
        return wire.bearer_routes(
            [
                ("POST", jobs, self.create),
                ("GET", jobs, self.list),
                ("GET", f"{jobs}/{{job}}", self.get),
                ("POST", f"{jobs}/{{job}}:cancel", self.cancel),
            ]
        )

    def _job(self, req: Request) -> dict[str, Any]:
        p = req.params
        doc = self.store.get_doc(KIND_JOB, f"{p['project']}/{p['location']}/{p['job']}")
        if doc is None:
            raise not_found(
                f'The TuningJob "projects/{p["project"]}/locations/{p["location"]}/tuningJobs/'
                f'{p["job"]}" does not exist.'
            )
        return doc

    def _data(self, new: wire.NewJob) -> tuple[str, str | None, int, int]:
        """(training URI, validation URI, examples, characters), each object checked as the
        method's dataset."""
        key = methods.SPEC_OF[new.method]
        field = "promptDatasetUri" if new.method == "distillation" else "trainingDatasetUri"
        training_uri = new.spec.get(field)
        validation_uri = new.spec.get("validationDatasetUri")
        uris = [(f"{key}.{field}", training_uri)]
        uris += [(f"{key}.validationDatasetUri", validation_uri)] if validation_uri else []
        found = []
        for path, uri in uris:
            bucket, name = wire.gs_uri(uri, path)
            if new.method == "supervised":
                found.append(read_examples(self.store, str(uri), path))
                continue
            if self.store.get_doc(KIND_OBJECT, f"{bucket}/{name}") is None:
                raise invalid(f"{path}: {uri} does not exist or cannot be read.")
            data = self.store.get_blob(bucket, name) or b""
            found.append(methods.count_rows(new.method, data, str(uri), path))
        return str(training_uri), validation_uri, *found[0]

    def create(self, req: Request) -> Response:
        new = wire.new_job(req.json(), self.tunable)
        training_uri, validation_uri, count, chars = self._data(new)
        pre, base = self._pre_tuned(new, req.params)
        methods.check_offered(new.method, base, self.methods)
        hyper, own = _hyper(new, base)
        per_epoch = training.steps_per_epoch(count, wire.STEP_BATCH)
        now = self.clock()
        p = req.params
        job_id = f"{int(now * 1_000_000)}{secrets.randbelow(1000):03d}"
        seconds = self.train_seconds()
        steps = training.total_steps(count, wire.STEP_BATCH, int(hyper["epochCount"]))
        doc = {
            "project": p["project"],
            "location": p["location"],
            "id": job_id,
            "display_name": new.display_name,
            "description": new.description,
            "labels": new.labels,
            "base_model": base,
            "training_uri": training_uri,
            "validation_uri": validation_uri,
            "hyper": hyper,
            "create_time": now,
            "train_seconds": seconds,
            "queue_seconds": seconds * timeline.QUEUE_SHARE,
            "stats": self._stats(
                new, training_uri, int(hyper["epochCount"]), (count, chars, steps)
            ),
            "method": new.method,
            "method_hyper": own,
            "method_extra": methods.extras(new.method, new.spec),
            "expire": re.search(rf"\b{timeline.EXPIRE_WORD}\b", new.display_name) is not None,
            "no_endpoint": re.search(rf"\b{timeline.NO_ENDPOINT_WORD}\b", new.display_name)
            is not None,
            "export_last_checkpoint_only": bool(new.spec.get("exportLastCheckpointOnly")),
            "steps": steps,
            "steps_per_epoch": per_epoch,
            "example_count": count,
            "chars": chars,
            "seed": str(int.from_bytes(secrets.token_bytes(8), "big")),
            "fail": re.search(rf"\b{training.FAIL_WORD}\b", new.display_name) is not None,
            "cancel_time": None,
            "cancel_requested": None,
            "model_id": _resource_id(),
            "endpoint_id": _resource_id(),
            "deployed_model_id": _resource_id(),
            "undeployed": False,
            "model_deleted": False,
            "endpoint_deleted": False,
            **_echoed(new, pre),
        }
        doc["checkpoints"] = timeline.checkpoints(doc)
        doc |= self._evaluation(new.spec.get("evaluationConfig"), doc)
        self.store.insert_doc(KIND_JOB, wire.doc_key(doc), doc)
        return Response(200, resources.job_json(doc, now))

    def _stats(
        self, new: wire.NewJob, uri: str, epochs: int, sizes: tuple[int, int, int]
    ) -> dict[str, Any]:
        """``tuningDataStats``: the supervised JSONL's, or the method's."""
        if new.method != "supervised":
            return methods.data_stats(new.method, *sizes[:2], epochs, sizes[2])
        bucket, name = wire.gs_uri(uri, "trainingDatasetUri")
        return timeline.data_stats(self.store.get_blob(bucket, name) or b"", epochs)

    def _evaluation(self, raw: object, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The job's ``evaluationConfig`` (checked) and what the finished job will report of
        its own evaluation (see `evaluation`); nothing without one."""
        if raw is None:
            return {}
        config = evaluation.check(raw)
        uri = str(doc["validation_uri"] or doc["training_uri"])
        bucket, name = wire.gs_uri(uri, "supervisedTuningSpec.validationDatasetUri")
        cases = answers.jsonl_examples(self.store.get_blob(bucket, name) or b"")
        bucket, name = wire.gs_uri(str(doc["training_uri"]), "trainingDatasetUri")
        pairs = answers.jsonl_examples(self.store.get_blob(bucket, name) or b"")
        runs = evaluation.runs(
            config,
            cases,
            lambda prompt: answers.answer_for(prompt, pairs),
            [c["id"] for c in doc.get("checkpoints") or []],
            wire.parent(doc),
            str(doc["id"]),
            uri,
        )
        return {"evaluation_config": config, "evaluation_runs": runs}

    def _pre_tuned(
        self, new: wire.NewJob, params: Mapping[str, str]
    ) -> tuple[dict[str, str] | None, str]:
        """(``preTunedModel`` as echoed, with its output-only ``baseModel``; the base model).
        The tuned Model must exist here, made by a job that has finished (SUCCEEDED), and a
        named checkpoint must be one of its own. Google documents no error for a pre-tuned
        model whose job is still running; this answers 400 FAILED_PRECONDITION, the status
        AIP-193 gives a request the resource's state does not allow yet."""
        if new.pre_tuned is None:
            return None, new.base_model
        name = new.pre_tuned["tunedModelName"]
        model_id = name.rsplit("/", 1)[-1].split("@", 1)[0]
        now = self.clock()
        for _, d in self.store.docs(KIND_JOB, f"{params['project']}/{params['location']}/"):
            if d["model_id"] != model_id or d["model_deleted"]:
                continue
            state = timeline.status(d, now).state
            if state != "JOB_STATE_SUCCEEDED":
                raise ApiError(
                    400,
                    f"preTunedModel.tunedModelName: {name} is not ready to tune further: the "
                    f"tuning job that makes it is {state}.",
                    "FAILED_PRECONDITION",
                )
            wanted = new.pre_tuned.get("checkpointId")
            if wanted is not None and wanted not in {c["id"] for c in d.get("checkpoints") or []}:
                raise invalid(f"preTunedModel.checkpointId {wanted} is not a checkpoint of {name}.")
            return {**new.pre_tuned, "baseModel": d["base_model"]}, d["base_model"]
        raise invalid(f"preTunedModel.tunedModelName: {name} does not exist or is not tuned.")

    def get(self, req: Request) -> Response:
        return Response(200, resources.job_json(self._job(req), self.clock()))

    def list(self, req: Request) -> Response:
        p = req.params
        raw_filter = req.arg("filter") or ""
        terms = wire.parse_filter(raw_filter)
        size = PAGES.size(req.arg("pageSize"))
        token = req.arg("pageToken")
        before = PAGES.decode(token, raw_filter) if token else None
        docs = sorted(
            (d for _, d in self.store.docs(KIND_JOB, f"{p['project']}/{p['location']}/")),
            key=_sort_key,
            reverse=True,  # newest first
        )
        matching = [
            d
            for d in docs
            if (before is None or _sort_key(d) < before.zfill(24))
            and all((k in d["labels"]) if v is None else d["labels"].get(k) == v for k, v in terms)
        ]
        now = self.clock()
        return Response(
            200,
            PAGES.page(
                matching,
                size,
                "tuningJobs",
                lambda d: resources.job_json(d, now),
                lambda d: str(d["id"]),
                raw_filter,
            ),
        )

    def cancel(self, req: Request) -> Response:
        """Starts asynchronous cancellation: ``CANCELLING`` until it takes effect."""
        doc = self._job(req)
        now = self.clock()
        state = timeline.status(doc, now).state
        if state not in timeline.ACTIVE_STATES:
            raise ApiError(
                400,
                f"Cannot cancel tuning job {wire.parent(doc)}/tuningJobs/{doc['id']} in state "
                f"{state}.",
                "FAILED_PRECONDITION",
            )
        delay = doc["train_seconds"] * timeline.CANCEL_SHARE

        def stop(d: dict[str, Any]) -> dict[str, Any]:
            if d.get("cancel_requested") is None:
                d["cancel_requested"] = now
                d["cancel_time"] = now + delay
            return d

        self.store.update_doc(KIND_JOB, wire.doc_key(doc), stop)
        return Response(200, {})
