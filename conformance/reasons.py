"""Why the emulator leaves an upstream method unserved: one reason for every "not served" row
of the coverage table (`test_coverage_doc` fails on a row without one, so a method Google adds
gets a decision, not silence).

Each rule is (API prefix, method pattern, URI fragment or ""), tried in order; the first match
gives the reason.
"""

from __future__ import annotations

import re

from conformance.upstream import Binding

_BASE = "base-model inference: the tool tunes models and never calls a base model"
_CUSTOM = "custom-model management: the tool's models come from tuning jobs, one version each"
_BUCKET = "bucket administration: the tool creates and reads its staging bucket, nothing else"
_OBJECT = "the tool uploads, reads, lists and deletes whole objects only"

RULES: tuple[tuple[str, str, str, str], ...] = (
    ("generativelanguage", r"GenerativeService\.", "{model=models/*}", _BASE),
    ("generativelanguage", r"GenerativeService\.", "{model=dynamic/*}", _BASE),
    (
        "generativelanguage",
        r"GenerativeService\.StreamGenerateContent",
        "tunedModels",
        "streaming: the tool's smoke test calls generateContent, which is served",
    ),
    (
        "generativelanguage",
        r"PermissionService\.",
        "corpora",
        "corpora belong to semantic retrieval, not to tuning",
    ),
    (
        "generativelanguage",
        r"PermissionService\.",
        "tunedModels",
        "sharing: the tool never shares a model; read access by other projects is emulated "
        "through readerProjectNumbers",
    ),
    (
        "aiplatform",
        r"GenAiTuningService\.RebaseTunedModel",
        "",
        "rebasing onto a newer base model: the tool tunes a new model from the manifest instead",
    ),
    (
        "aiplatform",
        r"EndpointService\.(FetchPublisherModelConfig|SetPublisherModelConfig)",
        "",
        "publisher-model logging config: not part of tuning",
    ),
    (
        "aiplatform",
        r"EndpointService\.",
        "",
        "a tuning job deploys its model itself; the tool reads, undeploys and deletes endpoints",
    ),
    ("aiplatform", r"ModelService\..*Evaluat", "", "model evaluations: the tool does not evaluate"),
    ("aiplatform", r"ModelService\.", "", _CUSTOM),
    (
        "aiplatform",
        r"ModelGardenService\.",
        "",
        "Model Garden deployment and EULAs: the tool only reads a publisher model",
    ),
    (
        "aiplatform",
        r"PredictionService\.(GenerateContent|CountTokens)",
        "",
        "another binding of a served method: the tool asks a tuned model's endpoint in a "
        "project's location and counts tokens on a publisher model there",
    ),
    (
        "aiplatform",
        r"PredictionService\.",
        "",
        "prediction beyond generateContent: the tool only scores a tuned model's answers",
    ),
    ("storage", r"buckets\.", "", _BUCKET),
    (
        "storage",
        r"objects\.insert",
        "/resumable/",
        "google-cloud-storage starts resumable uploads at /upload/storage/v1 with "
        "uploadType=resumable, which is served",
    ),
    (
        "storage",
        r"objects\.insert",
        "",
        "metadata-only insert: uploads use /upload/storage/v1, which is served",
    ),
    ("storage", r"objects\.", "", _OBJECT),
)


def reason(b: Binding) -> str | None:
    """Why ``b`` is not served, or None when no rule says."""
    for api, method, fragment, why in RULES:
        if b.api.startswith(api) and re.match(method, b.rpc) and fragment in b.uri:
            return why
    return None
