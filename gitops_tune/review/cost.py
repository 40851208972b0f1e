"""Training tokens and what they cost.

Tokens are counted by the backend (``plan --count-tokens``) or estimated with Google's rule
of thumb from "Understand and count tokens": a token is about four characters. Training
tokens are the examples' tokens times the epoch count. Prices come from a table: the one in
the package (`prices.yaml`, dated and sourced), or the user's own file in the same shape.
A base model matches the table's longest entry its name starts with, after ``models/`` or
``publishers/google/models/`` is dropped (``gemini-2.5-flash-001`` takes ``gemini-2.5-flash``).

Evaluation (``spec.evaluation``) is inference, not training: apply asks the new model every
held-out input once, and with ``noRegression`` the serving model too (unless its marker already
holds scores on the same set, so this is an upper bound). Each call is counted as its input
(the preamble prepended) plus its expected output as the answer's length, both estimated; a
chat example as its text parts (system instruction, every turn, the last model turn as the
answer's length), its ``fileData`` parts not counted. The table has no inference prices, so
these tokens are shown and not priced.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gitops_tune.errors import Diagnostic, Location, UserError
from gitops_tune.review.model import Cost

CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Price:
    base_model: str
    usd_per_million: float | None
    source: str


@dataclass(frozen=True)
class PriceTable:
    prices: tuple[Price, ...]
    origin: str  # the file it was read from

    def find(self, base_model: str) -> Price | None:
        name = base_model
        for prefix in ("publishers/google/models/", "models/"):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        hits = [p for p in self.prices if name.startswith(p.base_model)]
        return max(hits, key=lambda p: len(p.base_model), default=None)


def estimate_tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def evaluation_usage(examples: Iterable[Sequence[str]], passes: int) -> tuple[int, int]:
    """(tokens, calls) of ``passes`` evaluations of ``examples``, each given by its texts: a
    pair's (input, expected output), a chat example's text parts
    (`gitops_tune.dataset.records.token_texts`)."""
    per_pass = calls = 0
    for texts in examples:
        per_pass += sum(estimate_tokens(len(text)) for text in texts)
        calls += 1
    return per_pass * passes, calls * passes


def method_tokens(method: str, settings: str, chars: int) -> tuple[int, str]:
    """(estimated tokens an epoch, what they count) of a method's rows holding ``chars``
    characters of text. Preference rows count the prompt and both completions; reinforcement
    tuning reads each prompt once per sampled response (``samplesPerPrompt``, Google's
    default where unset is not documented: 1 is counted) and the responses it samples are not
    known before the run; distillation counts the prompts, not the teacher's responses."""
    tokens = estimate_tokens(chars)
    if method == "reinforcement":
        samples = int(json.loads(settings).get("samplesPerPrompt") or 1)
        why = (
            f"reinforcement: prompt tokens x samplesPerPrompt {samples}; the sampled responses "
            "are not known before the run and are not counted"
        )
        return tokens * samples, why
    if method == "distillation":
        return tokens, "distillation: the prompts only; the teacher's responses are not counted"
    return tokens, "preference: the prompt and both completions"


def cost(
    tokens_per_epoch: int, epochs: int, estimated: bool, base_model: str, table: PriceTable
) -> Cost:
    tokens = tokens_per_epoch * epochs
    price = table.find(base_model)
    rate = price.usd_per_million if price else None
    return Cost(
        tokens=tokens,
        estimated=estimated,
        epochs=epochs,
        usd=None if rate is None else tokens / 1_000_000 * rate,
        price_per_million=rate,
        price_source=price.source if price and rate is not None else None,
    )


def method_cost(
    method: str, settings: str, chars: int, epochs: int, base_model: str, table: PriceTable
) -> Cost:
    """`cost` of a tuning method's run, saying how its tokens are counted."""
    per_epoch, counts = method_tokens(method, settings, chars)
    return replace(cost(per_epoch, epochs, True, base_model, table), counts=counts)


def load_prices(path: str | None, named_in: Location | None = None) -> PriceTable:
    """The user's table at ``path``, else the package's. ``named_in``: the Workspace document
    whose ``spec.review.prices`` gave ``path`` (where a missing file is reported)."""
    if path is None:
        text = resources.files("gitops_tune.review").joinpath("prices.yaml").read_text("utf-8")
        return _parse(text, "gitops_tune/review/prices.yaml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        if named_in is not None:
            message = f"cannot read the price table {path}: {why}"
            raise UserError(Diagnostic(message, named_in, "spec.review.prices")) from None
        raise UserError(Diagnostic(f"cannot read the price table: {e}", Location(path))) from None
    return _parse(text, path)


def _parse(text: str, origin: str) -> PriceTable:
    def bad(what: str) -> UserError:
        return UserError(Diagnostic(f"price table: {what}", Location(origin), "prices"))

    try:
        doc: Any = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise UserError(Diagnostic(f"invalid YAML: {e}", Location(origin, line))) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("prices"), list):
        raise bad(
            "a mapping with a list 'prices' of {baseModel, usdPerMillionTrainingTokens, source}"
        )
    default_source = str(doc.get("source") or origin)
    prices = []
    for i, entry in enumerate(doc["prices"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("baseModel"), str):
            raise bad(f"prices[{i}]: needs baseModel (a string)")
        rate = entry.get("usdPerMillionTrainingTokens")
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 0
        ):
            raise bad(f"prices[{i}].usdPerMillionTrainingTokens: a number, 0 or more, or null")
        source = str(entry.get("source") or default_source)
        prices.append(Price(entry["baseModel"], None if rate is None else float(rate), source))
    return PriceTable(tuple(prices), origin)
