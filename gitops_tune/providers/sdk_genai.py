"""The one door to google-genai: every import of the SDK and every private or version-sensitive
part of it lives here, so an SDK upgrade is checked in one module (tests/test_sdk_seam.py keeps
it that way).

What the providers get: a client in Gemini API or Vertex AI mode (``Genai``); raw REST requests
through the SDK's own HTTP layer (same auth, base URL and transport as the SDK), for what the SDK
has no method for or converts lossily; tuning jobs as plain data; paging; one error mapping to
``ProviderError``/``TransientError``.

``google.genai`` is imported on first use: commands that talk to no API never pay for it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from gitops_tune.backends import Hyperparameters
from gitops_tune.providers.answers import paged
from gitops_tune.providers.base import (
    ADC_HINT,
    Checkpoint,
    Prompt,
    ProviderError,
    TrainingOptions,
    TransientError,
    guarded,
    status_error,
)
from gitops_tune.providers.retry import is_transport_error, retry_after
from gitops_tune.providers.tuning_evaluation import TuningEvaluation, runs_from
from gitops_tune.providers.tuning_job import TuneRequest, TuningJob
from gitops_tune.providers.vertex_methods import (
    config_fields,
    data_stats,
    method_of,
    method_spec,
    training_uri,
)

if TYPE_CHECKING:
    from google.genai import Client, types

T = TypeVar("T")


def raw_request(
    client: Client, method: str, path: str, body: dict[str, Any] | None = None, answer: Any = Any
) -> Any:
    """One REST call through the SDK's own HTTP layer; its JSON answer as ``answer`` (a msgspec
    type), else a `ProviderError`. SDK errors propagate unmapped (``Genai.request`` maps them)."""
    # Private in every google-genai release so far: the version-sensitive part of this seam.
    response = client._api_client.request(method, path, body or {})
    try:  # msgspec: a page of 1,000 models several times faster than json
        return msgspec.json.decode(response.body or "{}", type=answer, strict=False)
    except msgspec.ValidationError as e:
        raise ProviderError(f"{method.upper()} {path.split('?')[0]}: answered {e}") from None


def provider_error(
    e: Exception, what: str, redact: Callable[[str], str] = str
) -> ProviderError | None:
    """What google-genai raises, as our error: API errors by HTTP status (transient ones with
    their ``Retry-After``), transport failures as transient, credential problems with a hint.
    None: not an SDK failure (a bug of ours, let it surface)."""
    from google.genai import errors

    name = type(e).__name__
    if isinstance(e, errors.APIError):
        code = int(getattr(e, "code", 0) or 0)
        status, text = getattr(e, "status", "") or "", getattr(e, "message", "") or e
        return status_error(redact(f"{what}: {code} {status}: {text}"), code, retry_after(e))
    if is_transport_error(e):
        return TransientError(redact(f"{what}: {name}: {e}"))
    if type(e).__module__.startswith("google.auth"):
        hint = f"; {ADC_HINT}" if name == "DefaultCredentialsError" else ""
        return ProviderError(redact(f"{what}: {name}: {e}{hint}"))
    return None


class Genai:
    """One google-genai client, made on first use (a plan whose list came from the helper
    process and that changes nothing never imports google-genai: about 0.7 s of a core); a
    client that cannot be made is a `ProviderError` at the first call. Every call through it
    is error-mapped."""

    def __init__(self, make: Callable[[], Client]) -> None:
        self._make: Callable[[], Client] | None = make
        self._made: Client | None = None
        self._making = threading.Lock()  # apply's first calls may come from several threads

    @property
    def _client(self) -> Client:
        with self._making:
            if self._made is None:
                assert self._make is not None
                self._made, self._make = self._make(), None
            return self._made

    @classmethod
    def gemini(
        cls, api_key: str | None, base_url: str | None, timeout_s: float, api_version: str
    ) -> Genai:
        """The Gemini Developer API (API key from the argument or the SDK's environment)."""

        def make() -> Client:
            from google import genai

            options = _http_options(timeout_s, base_url, api_version)
            try:
                return genai.Client(api_key=api_key, http_options=options)
            except ValueError as e:  # the SDK's "No API key was provided"
                raise ProviderError(
                    "no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) for the gemini backend"
                ) from e

        return cls(make)

    @classmethod
    def vertex(
        cls,
        project: str,
        location: str,
        credentials: Any,
        base_url: str | None,
        timeout_s: float,
    ) -> Genai:
        """Vertex AI (Application Default Credentials unless ``credentials`` is given)."""

        def make() -> Client:
            from google import genai

            options = _http_options(timeout_s, base_url, None)
            try:
                return genai.Client(
                    vertexai=True,
                    project=project,
                    location=location,
                    credentials=credentials,
                    http_options=options,
                )
            except Exception as e:  # e.g. google.auth DefaultCredentialsError
                raise ProviderError(f"Vertex AI client: {type(e).__name__}: {e}") from None

        return cls(make)

    def call(self, call: Callable[[], T], what: str) -> T:
        return guarded(call, what, lambda e, w: provider_error(e, w, self.redact))

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, answer: Any = Any
    ) -> Any:
        """A REST call (``path`` relative to the API version), its JSON answer (as ``answer``)."""
        what = f"{method.upper()} {path.split('?')[0]}"
        return self.call(lambda: raw_request(self._client, method, path, body, answer), what)

    def generate(self, model: str, prompt: Prompt) -> tuple[str, int]:
        """``generateContent`` on ``model`` (a Gemini API ``tunedModels/...`` or a Vertex AI
        endpoint ``projects/.../endpoints/...``): the answer's text and the tokens used. A
        text is the SDK's one user turn; `Turns` go as ``contents`` and the config's
        ``system_instruction`` and generation settings (the SDK's camelCase aliases)."""
        from google.genai import types

        what = f"generateContent {model}"
        if not isinstance(prompt, str):
            system, settings = prompt.system_instruction, prompt.generation_config or {}
            try:  # pydantic's ValidationError is a ValueError
                config = types.GenerateContentConfig.model_validate(
                    {**settings, "systemInstruction": system}
                )
                contents = [types.Content.model_validate(c) for c in prompt.contents]
            except ValueError as e:
                raise ProviderError(f"{what}: not a request google-genai can send: {e}") from None

        def ask() -> tuple[str, int]:
            if isinstance(prompt, str):
                answer = self._client.models.generate_content(model=model, contents=prompt)
            else:
                answer = self._client.models.generate_content(
                    model=model, contents=contents, config=config
                )
            usage = answer.usage_metadata
            tokens = (usage.total_token_count or 0) if usage is not None else 0
            return answer.text or "", int(tokens)

        return self.call(ask, what)

    def redact(self, text: str) -> str:
        """Error text comes from the server; one that echoes the request back (a proxy, a broken
        or hostile endpoint) must not make us print the API key."""
        if self._made is None:  # no client, so no key to leak
            return text
        key = getattr(self._made._api_client, "api_key", None)
        return text.replace(key, "[redacted]") if isinstance(key, str) and key else text

    def count_tokens(
        self, model: str, contents: Sequence[Mapping[str, Any]], media_resolution: str | None
    ) -> int:
        """The tokens of ``contents`` (camelCase ``Content`` JSON) by ``model``'s tokenizer, in
        one ``countTokens`` call (``models.count_tokens``); ``media_resolution`` goes as
        ``config.generation_config.media_resolution`` (Vertex AI's ``CountTokensRequest`` has a
        ``generationConfig``; google-genai refuses it for the Gemini API). No contents: 0, and
        nothing is sent."""
        from google.genai import types

        if not contents:
            return 0
        sent = [types.Content.model_validate(c) for c in contents]
        config = None
        if media_resolution:
            resolution = types.MediaResolution(media_resolution)
            config = types.CountTokensConfig(
                generation_config=types.GenerationConfig(media_resolution=resolution)
            )
        response = self.call(
            lambda: self._client.models.count_tokens(model=model, contents=sent, config=config),
            f"count tokens with {model}",
        )
        return int(response.total_tokens or 0)

    # -- Vertex AI tuning jobs -----------------------------------------------------------------

    def tuning_jobs(self, filter_: str, page_size: int) -> Iterator[TuningJob]:
        from google.genai import types

        def fetch(token: str) -> tuple[list[TuningJob], str]:
            config = types.ListTuningJobsConfig(
                filter=filter_, page_size=page_size, page_token=token or None
            )
            # Private: the public pager hides page tokens and raises mid-iteration.
            page = self.call(lambda: self._client.tunings._list(config=config), "list tuningJobs")
            return [_job(j) for j in page.tuning_jobs or []], page.next_page_token or ""

        return paged(fetch)

    def tuning_job(self, name: str) -> TuningJob:
        return _job(self.call(lambda: self._client.tunings.get(name=name), f"get {name}"))

    def cancel_tuning_job(self, name: str) -> None:
        self.call(lambda: self._client.tunings.cancel(name=name), f"cancel {name}")

    def tune(self, request: TuneRequest, what: str) -> TuningJob:
        """Create a supervised tuning job. A ``projects/...`` base model is the SDK's way of
        saying ``preTunedModel`` (continuous tuning); ``serviceAccount`` has no
        CreateTuningJobConfig field in google-genai 3.6, so it travels in ``extra_body``."""
        from google.genai import types

        options = request.options
        config = types.CreateTuningJobConfig(
            tuned_model_display_name=request.display_name,
            description=request.description,
            labels=dict(request.labels),
            epoch_count=request.epoch_count,
            learning_rate_multiplier=request.learning_rate_multiplier,
            adapter_size=request.adapter_size,  # type: ignore[arg-type]
            validation_dataset=(
                types.TuningValidationDataset(gcs_uri=request.validation_uri)
                if request.validation_uri
                else None
            ),
            export_last_checkpoint_only=options.export_last_checkpoint_only or None,
            pre_tuned_model_checkpoint_id=options.pre_tuned_checkpoint or None,
            encryption_spec=(
                types.EncryptionSpec(kms_key_name=options.kms_key_name)
                if options.kms_key_name
                else None
            ),
            http_options=(
                types.HttpOptions(extra_body={"serviceAccount": options.service_account})
                if options.service_account
                else None
            ),
            **config_fields(options.method, options.method_settings),
            evaluation_config=(
                _evaluation_config(options.evaluation) if options.evaluation else None
            ),
        )
        dataset = types.TuningDataset(gcs_uri=request.training_uri)
        base_model = options.pre_tuned_model or request.base_model

        def tune() -> types.TuningJob:
            with warnings.catch_warnings():  # "tuning is experimental": not the user's concern
                warnings.simplefilter("ignore")
                created: types.TuningJob = self._client.tunings.tune(
                    base_model=base_model, training_dataset=dataset, config=config
                )
                return created

        return _job(self.call(tune, what))


def _http_options(timeout_s: float, base_url: str | None, api_version: str | None) -> Any:
    from google.genai import types

    from gitops_tune import __version__

    options = types.HttpOptions(
        api_version=api_version,
        timeout=int(timeout_s * 1000),
        # google-genai prepends its own label; the emulator's recorder tells the tool's calls
        # from the tests' own by this one.
        headers={"user-agent": f"gitops-tune/{__version__}"},
    )
    if base_url:
        options.base_url = base_url
    return options


def _job(job: types.TuningJob) -> TuningJob:
    tuned = job.tuned_model
    spec = method_spec(job)
    stats = data_stats(job.tuning_data_stats)
    pre = job.pre_tuned_model
    checkpoints = (tuned.checkpoints or []) if tuned is not None else []
    return TuningJob(
        name=job.name or "",
        state=job.state.value if job.state is not None else "",
        labels=dict(job.labels or {}),
        display_name=job.tuned_model_display_name or "",
        description=job.description or "",
        base_model=job.base_model or (pre.base_model or "" if pre is not None else ""),
        hyperparameters=_hyperparameters(job),
        create_time=job.create_time,
        update_time=job.update_time,
        total_steps=stats.steps if stats is not None else None,
        endpoint=(tuned.endpoint or "") if tuned is not None else "",
        tuned_model=(tuned.model or "") if tuned is not None else "",
        error=None if job.error is None else (job.error.message or ""),
        training_uri=training_uri(spec),
        validation_uri=(spec.validation_dataset_uri or "") if spec is not None else "",
        experiment=job.experiment or "",
        options=_options(job),
        checkpoints=tuple(
            Checkpoint(c.checkpoint_id or "", int(c.epoch or 0), int(c.step or 0), c.endpoint or "")
            for c in checkpoints
        ),
        checkpoint_endpoints=tuple(c.endpoint for c in checkpoints if c.endpoint),
        billable_tokens=stats.billable_tokens if stats is not None else None,
        data_stats=stats,
        evaluation_runs=runs_from(
            r.model_dump(mode="json", exclude_none=True) for r in job.evaluate_dataset_runs or []
        ),
    )


def _evaluation_config(wanted: TuningEvaluation) -> types.EvaluationConfig:
    """Vertex AI's ``EvaluationConfig``. google-genai makes ``exactMatchSpec``/``bleuSpec`` of
    a `Metric` named ``exact_match``/``bleu`` but lower-cases a rouge metric's name into its
    ``rougeType`` ("rougel", not "rougeL"): ROUGE goes as a `UnifiedMetric`."""
    from google.genai import types

    metrics: list[types.Metric | types.UnifiedMetric] = []
    for name in wanted.metrics:
        if name == "exactMatch":
            metrics.append(types.Metric(name="exact_match"))
        elif name == "bleu":
            metrics.append(types.Metric(name="bleu"))
        else:
            metrics.append(types.UnifiedMetric(rouge_spec=types.RougeSpec(rouge_type=name)))
    return types.EvaluationConfig(
        metrics=metrics,
        output_config=types.OutputConfig(
            gcs_destination=types.GcsDestination(output_uri_prefix=wanted.output_uri)
        ),
    )


def _options(job: types.TuningJob) -> TrainingOptions:
    pre, spec = job.pre_tuned_model, method_spec(job)
    method, settings = method_of(job.model_dump(mode="json", by_alias=True, exclude_none=True))
    return TrainingOptions(
        pre_tuned_model=(pre.tuned_model_name or "") if pre is not None else "",
        pre_tuned_checkpoint=(pre.checkpoint_id or "") if pre is not None else "",
        export_last_checkpoint_only=bool(getattr(spec, "export_last_checkpoint_only", False)),
        service_account=job.service_account or "",
        kms_key_name=(job.encryption_spec.kms_key_name or "") if job.encryption_spec else "",
        method=method,
        method_settings=settings,
    )


def _hyperparameters(job: types.TuningJob) -> Hyperparameters:
    spec = method_spec(job)
    h = spec.hyper_parameters if spec is not None else None
    if h is None:
        return Hyperparameters()
    return Hyperparameters(
        epoch_count=int(h.epoch_count) if h.epoch_count is not None else None,
        learning_rate_multiplier=h.learning_rate_multiplier,
        adapter_size=(
            str(getattr(h.adapter_size, "value", h.adapter_size))
            if h.adapter_size is not None
            else None
        ),
    )
