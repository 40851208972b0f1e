"""The JSON text of a tuned model whose training has ended, computed once and kept: in this
process (a memo) and in the store (`texts.KeptTexts`), so a fresh emulator process (the
`local` backend starts one per command) lists finished models without recomputing their
snapshots (hundreds a model) or re-encoding them.

Once a job has ended (``ACTIVE`` or ``FAILED``) its TunedModel no longer depends on the
clock, only on its stored record: the record is the text's key, so an edit (a new
``updateTime``) or a model created again under the same ID is recomputed, never served
stale. A list answer reads the kept texts of its whole page in one query before it encodes
the page (`Finished.for_page`) and writes what it had to compute in one transaction after
(`Page.save`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from gitops_tune.emulator import training
from gitops_tune.emulator.gemini import resources
from gitops_tune.emulator.store import ModelRecord
from gitops_tune.emulator.texts import KeptTexts

Kept = dict[str, tuple[str, bytes]]  # model ID -> (key, UTF-8 text)
MEMO_MODELS = 10_000  # the memo starts again beyond this many models (about 150 MB)


def key(rec: ModelRecord) -> str:
    """What an ended model's text is computed from: every field of its record."""
    return repr(rec)


class Finished:
    """This process's memo in front of the store's kept texts."""

    def __init__(self, kept: KeptTexts) -> None:
        self._kept = kept
        self._memo: Kept = {}

    def for_page(self, records: Sequence[ModelRecord]) -> Page:
        """The texts a page of models may need: the memo's, and the store's for the rest."""
        if len(self._memo) > MEMO_MODELS:  # deleted models' texts are never read again
            self._memo.clear()
        missing = [r.id for r in records if r.id not in self._memo]
        return Page(self._kept, self._memo, self._kept.get_many(missing) if missing else {})


class Page:
    """The tuned models of one list answer, encoded."""

    def __init__(self, kept: KeptTexts, memo: Kept, stored: Kept) -> None:
        self._kept = kept
        self._memo = memo
        self._stored = stored
        self._new: list[tuple[str, str, bytes]] = []

    def text(self, rec: ModelRecord, now: float) -> bytes:
        """`resources.tuned_model_json` of ``rec`` at ``now``, encoded."""
        if training.progress(resources.job(rec), now).state == "CREATING":
            return _encoded(rec, now)
        wanted = key(rec)
        for source in (self._memo, self._stored):
            hit = source.get(rec.id)
            if hit is not None and hit[0] == wanted:
                self._memo[rec.id] = hit
                return hit[1]
        text = _encoded(rec, now)
        self._memo[rec.id] = (wanted, text)
        self._new.append((rec.id, wanted, text))
        return text

    def save(self) -> None:
        """Keep the texts this page computed, for later processes."""
        self._kept.put_many(self._new)
        self._new = []


def _encoded(rec: ModelRecord, now: float) -> bytes:
    return json.dumps(resources.tuned_model_json(rec, now), ensure_ascii=False).encode("utf-8")
