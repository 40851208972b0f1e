"""The dataset rows of the tuning methods beyond supervised tuning, one JSON object a row, as
Google documents each (and as google-genai 3.6 types them):

- ``preference`` ("Prepare preference tuning data for Gemini models"; ``GeminiPreferenceExample``):
  ``contents`` (text turns alternating user/model from user, ending with a user turn), an
  optional ``systemInstruction``, and ``completions``: exactly two ``{completion, score}``, a
  single model turn each, one scored 1 (preferred) and one scored 0 (dispreferred).
- ``reinforcement`` ("About reinforcement learning fine-tuning for Gemini models";
  ``ReinforcementTuningExample``): ``contents`` ending with a user turn, optional
  ``systemInstruction``, ``references`` (names to strings, what ``{{references.KEY}}`` in a
  reward config reads) and ``tools``.
- ``distillation`` ("Gemini Distillation Service": a prompt dataset): ``contents`` ending with
  a user turn and an optional ``systemInstruction``; the teacher writes the responses.

Each row becomes a `Conversation` whose canonical line is both its fingerprint line and its
line in the JSONL staged for Vertex AI, as chat rows are (`gitops_tune.dataset.chat`); a row
with a problem is one diagnostic at its file:line with the field path in the row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from gitops_tune.dataset.chat import ChatError, Conversation, _dump, _object, _Parse, turns
from gitops_tune.dataset.fingerprints import Fingerprinter
from gitops_tune.dataset.records import Row, Scan, Source
from gitops_tune.dataset.tuning_limits import media_resolutions
from gitops_tune.errors import Diagnostic, Location, UserError

_TOP = {
    "preference": ("contents", "systemInstruction", "completions"),
    "reinforcement": ("contents", "systemInstruction", "references", "tools"),
    "distillation": ("contents", "systemInstruction"),
}
_COMPLETION = ("completion", "score")
MAX_ERRORS = 20


def _completions(value: object, state: _Parse) -> tuple[list[dict[str, Any]], str]:
    """Exactly two completions, scored 1 and 0; (them, the preferred one's text)."""
    if not isinstance(value, list) or len(value) != 2:
        raise ChatError(
            "must be a pair of completions: one preferred (score 1), one dispreferred (score 0)",
            "completions",
        )
    out = []
    for i, item in enumerate(value):
        where = f"completions[{i}]"
        entry = _object(item, _COMPLETION, where)
        score = entry.get("score")
        if type(score) not in (int, float) or score not in (0, 1):
            raise ChatError(f"must be 0 or 1 (got {score!r})", f"{where}.score")
        if "completion" not in entry:
            raise ChatError("missing 'completion' (a single model turn)", where)
        turn = state.content(entry["completion"], f"{where}.completion", "model")
        out.append({"completion": turn, "score": score})
    if {c["score"] for c in out} != {0, 1}:
        raise ChatError("one completion must score 1 and the other 0", "completions")
    best = next(c for c in out if c["score"] == 1)["completion"]
    return out, "".join(p.get("text", "") for p in best["parts"])


def _references(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ChatError("must be an object of names to strings", "references")
    for key, item in value.items():
        if not isinstance(item, str):
            raise ChatError(f"must be a string (got {type(item).__name__})", f"references.{key}")
    return dict(value)


def _tools(value: object) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ChatError("must be a list of Tool objects", "tools")
    return list(value)


def parse(method: str, value: object, resolutions: tuple[str, ...]) -> Conversation:
    """One row of ``method``'s dataset -> a `Conversation`; `ChatError` with the first problem."""
    row = _object(value, _TOP[method], "")
    state = _Parse(resolutions)
    out = turns(row, state, "user", "the prompt")
    output = ""
    if method == "preference":
        if state.media:
            raise ChatError("preference tuning takes text only", state.media[0].field)
        out["completions"], output = _completions(row.get("completions"), state)
    if method == "reinforcement":
        if "references" in row:
            out["references"] = _references(row["references"])
        if "tools" in row:
            out["tools"] = _tools(row["tools"])
    prompt = _dump({k: out[k] for k in ("systemInstruction", "contents") if k in out})
    return Conversation(
        _dump(out), state.chars, tuple(state.media), state.resolution, prompt, output
    )


def _rows(
    source: Source, method: str, report: Callable[[Diagnostic], None]
) -> Iterator[Conversation]:
    resolutions = media_resolutions()
    for item in source.rows():
        if type(item) is not Row:
            report(item)  # type: ignore[arg-type]
            continue
        try:
            yield parse(method, item.value, resolutions)
        except ChatError as e:
            field = f"{item.field}.{e.field}" if item.field and e.field else item.field
            report(Diagnostic(str(e), item.location, field))


def scan(
    source: Source, method: str, base_model: str, hyperparameters: Mapping[str, object]
) -> Scan:
    """Read ``method``'s dataset once: check every row, count, size and fingerprint."""
    fp = Fingerprinter(base_model, hyperparameters)
    errors: list[Diagnostic] = []
    chars = 0
    for found in _rows(source, method, errors.append):
        fp.add_line(found.line)
        chars = max(chars, found.chars)
    shown = errors[:MAX_ERRORS]
    if len(errors) > MAX_ERRORS:
        more = f"... and {len(errors) - MAX_ERRORS:,} more problems in this dataset"
        shown.append(Diagnostic(more, Location(source.display)))
    count = fp.count + len(errors)
    if source.kind == "csv":
        why = f"a {method} dataset is JSONL (or a JSON array): its rows are objects, not columns"
        shown = [Diagnostic(why, Location(source.display))]
    return Scan(count, fp.size, fp.hexdigest(), tuple(shown), chats=fp.count)


def stream(
    source: Source,
    method: str,
    base_model: str,
    hyperparameters: Mapping[str, object],
    expected_fingerprint: str | None = None,
) -> Iterator[Conversation]:
    """Re-read the source and yield its rows; a problem, or a changed source, raises."""
    fp = Fingerprinter(base_model, hyperparameters)

    def report(diagnostic: Diagnostic) -> None:
        raise UserError(diagnostic)

    for found in _rows(source, method, report):
        fp.add_line(found.line)
        yield found
    if expected_fingerprint is not None and fp.hexdigest() != expected_fingerprint:
        raise UserError(
            Diagnostic(
                "changed since it was validated; run the command again", Location(source.display)
            )
        )
