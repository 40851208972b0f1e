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
from urllib.parse import quote

import msgspec

from gitops_tune.providers.answers import paged
from gitops_tune.providers.base import (
    ADC_HINT,
    Prompt,
    ProviderError,
    TransientError,
    guarded,
    status_error,
)
from gitops_tune.providers.retry import is_transport_error, retry_after
from gitops_tune.providers.tuning_evaluation import TuningEvaluation
from gitops_tune.providers.tuning_job import TuneRequest, TuningJob, from_json
from gitops_tune.providers.vertex_methods import config_fields

if TYPE_CHECKING:
    from google.genai import Client, types


class _JobsPage(msgspec.Struct, gc=False, rename="camel"):
    """A ``ListTuningJobsResponse``; each job as proto3 JSON (`tuning_job.from_json`)."""

    tuning_jobs: list[dict[str, Any]] = msgspec.field(default_factory=list)
    next_page_token: str = ""


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
        """Read as REST JSON (msgspec), not through ``tunings.list``: google-genai's typed
        answer took about 1 s of a core per 1,000 jobs (its extra-field pass and pydantic)."""

        def fetch(token: str) -> tuple[list[TuningJob], str]:
            path = f"tuningJobs?filter={quote(filter_)}&pageSize={page_size}"
            if token:
                path += f"&pageToken={quote(token)}"
            page = self.call(
                lambda: raw_request(self._client, "get", path, answer=_JobsPage), "list tuningJobs"
            )
            return [from_json(j) for j in page.tuning_jobs], page.next_page_token

        return paged(fetch)

    def tuning_job(self, name: str) -> TuningJob:
        return from_json(self.call(lambda: raw_request(self._client, "get", name), f"get {name}"))

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

        created = self.call(tune, what)
        return from_json(created.model_dump(mode="json", by_alias=True, exclude_none=True))


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
