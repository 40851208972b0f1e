"""Encoded answers kept in the store: a tuned model whose training has ended, as the JSON
text a list answer splices in as is (`api.JsonText`).

An ended model's answer never changes until its record does, but computing its snapshots
(hundreds a model) and encoding them is what a list of many finished models would otherwise
spend its time on. Each text is kept with the key of what it was computed from (the record),
so a text that no longer matches is recomputed, never served. The texts live in their own
table as UTF-8 bytes: no JSON document around them and no decoding, so reading them back
costs what SQLite costs. Each row belongs to its model (``ON DELETE CASCADE``): deleting the
model deletes its text.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_tune.emulator.database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS kept_models (
    model_id TEXT PRIMARY KEY REFERENCES tuned_models(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    data BLOB NOT NULL
);
"""

_CHUNK = 500  # IDs per query: well under SQLite's limit on bound parameters


class KeptTexts:
    """The ``kept_models`` table of a store's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get_many(self, model_ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """model ID -> (key, UTF-8 text) for those of ``model_ids`` that have a kept text."""
        found: dict[str, tuple[str, bytes]] = {}
        with self._db.connection() as conn:
            for i in range(0, len(model_ids), _CHUNK):
                chunk = model_ids[i : i + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT model_id, key, data FROM kept_models WHERE model_id IN ({marks})",
                    chunk,
                )
                found.update((m, (k, d)) for m, k, d in rows)
        return found

    def put_many(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        """Keep (model ID, key, UTF-8 text) rows in one transaction; a row whose model has
        been deleted meanwhile is skipped."""
        if not rows:
            return
        with self._db.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO kept_models (model_id, key, data) "
                "SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM tuned_models WHERE id = ?)",
                [(m, k, t, m) for m, k, t in rows],
            )
