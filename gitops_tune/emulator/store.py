"""The emulator's store: SQLite, in memory or in a file shared by several processes (the
connections are `database`'s).

Create-if-absent is one ``INSERT`` on the primary key: two writers can never both create the
same ID, the loser gets `AlreadyExists`.

Times are POSIX seconds (floats). Training examples are stored in their own table, read only
by ``generateContent``; nothing here ever returns them with a model.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_tune.emulator import texts
from gitops_tune.emulator.database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS tuned_models (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    base_model TEXT NOT NULL,
    hyperparameters TEXT NOT NULL,
    sampling TEXT NOT NULL,
    create_time REAL NOT NULL,
    update_time REAL NOT NULL,
    train_seconds REAL NOT NULL,
    total_steps INTEGER NOT NULL,
    steps_per_epoch REAL NOT NULL,
    example_count INTEGER NOT NULL,
    data_seed TEXT NOT NULL,
    fail INTEGER NOT NULL,
    cancel_time REAL,
    operation_id TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    readers TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS training_examples (
    model_id TEXT PRIMARY KEY REFERENCES tuned_models(id) ON DELETE CASCADE,
    examples TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS blobs (
    bucket TEXT NOT NULL,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (bucket, name)
);
"""

_COLUMNS = (
    "id, display_name, description, base_model, hyperparameters, sampling, create_time, "
    "update_time, train_seconds, total_steps, steps_per_epoch, example_count, data_seed, fail, "
    "cancel_time, operation_id, owner, readers"
)
# columns added after the first release, for store files written before them
_ADDED_COLUMNS = {"owner": "TEXT NOT NULL DEFAULT ''", "readers": "TEXT NOT NULL DEFAULT '[]'"}


class AlreadyExists(Exception):
    """A model with this ID exists already."""


@dataclass(frozen=True)
class ModelRecord:
    id: str  # the bare ID, without "tunedModels/"
    display_name: str
    description: str
    base_model: str
    hyperparameters: Mapping[str, float | int]  # camelCase, defaults filled in
    sampling: Mapping[str, float | int]  # temperature / topP / topK
    create_time: float
    update_time: float
    train_seconds: float
    total_steps: int
    steps_per_epoch: float
    example_count: int
    data_seed: int
    fail: bool
    operation_id: str
    cancel_time: float | None = None
    owner: str = ""  # the creator's project ("" when the emulator takes any API key)
    readers: tuple[str, ...] = ()  # readerProjectNumbers, as decimal strings

    def readable_by(self, project: str) -> bool:
        return project == self.owner or project in self.readers


class Store:
    """Tuned models in SQLite. ``db_path=None`` keeps them in memory for this process only."""

    def __init__(self, db_path: str | None = None) -> None:
        self.db_path = db_path
        self._db = Database(db_path, SCHEMA + texts.SCHEMA)
        self._add_columns()
        self.kept = texts.KeptTexts(self._db)  # encoded answers kept for later processes

    def _add_columns(self) -> None:
        """Bring a store file from before a column existed up to date."""
        with self._db.connection() as conn:
            have = {row[1] for row in conn.execute("PRAGMA table_info(tuned_models)")}
            for name, kind in _ADDED_COLUMNS.items():
                if name in have:
                    continue
                with contextlib.suppress(sqlite3.OperationalError):  # added by another process
                    conn.execute(f"ALTER TABLE tuned_models ADD COLUMN {name} {kind}")

    def close(self) -> None:
        self._db.close()

    # -- models -------------------------------------------------------------------------

    def insert(self, record: ModelRecord, examples: Sequence[tuple[str, str]]) -> None:
        """Create the model, or raise `AlreadyExists`: atomic across threads and processes."""
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO tuned_models ({_COLUMNS}) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        record.display_name,
                        record.description,
                        record.base_model,
                        json.dumps(dict(record.hyperparameters), sort_keys=True),
                        json.dumps(dict(record.sampling), sort_keys=True),
                        record.create_time,
                        record.update_time,
                        record.train_seconds,
                        record.total_steps,
                        record.steps_per_epoch,
                        record.example_count,
                        str(record.data_seed),
                        int(record.fail),
                        record.cancel_time,
                        record.operation_id,
                        record.owner,
                        json.dumps(list(record.readers)),
                    ),
                )
                conn.execute(
                    "INSERT INTO training_examples (model_id, examples) VALUES (?, ?)",
                    (record.id, json.dumps([list(e) for e in examples], ensure_ascii=False)),
                )
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(record.id) from e

    def get(self, model_id: str) -> ModelRecord | None:
        with self._db.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM tuned_models WHERE id = ?", (model_id,)
            ).fetchone()
        return _record(row) if row is not None else None

    def page(
        self,
        after: str | None,
        limit: int,
        terms: Sequence[str] = (),
        *,
        owner: str | None = None,
        reader: str | None = None,
    ) -> list[ModelRecord]:
        """Models sorted by ID, after ``after``; each term must occur in displayName or
        description (case-insensitive). ``owner``: only that project's models; ``reader``:
        only models that project owns or may read."""
        where = ["id > ?"]
        args: list[object] = [after or ""]
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        if reader is not None:
            where.append("(owner = ? OR instr(readers, ?) > 0)")
            args += [reader, json.dumps(reader)]
        for term in terms:
            where.append(
                "(instr(casefold(display_name), ?) > 0 OR instr(casefold(description), ?) > 0)"
            )
            args += [term.casefold(), term.casefold()]
        args.append(limit)
        with self._db.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM tuned_models WHERE {' AND '.join(where)} "
                "ORDER BY id LIMIT ?",
                args,
            ).fetchall()
        return [_record(r) for r in rows]

    def update(
        self, model_id: str, changes: Mapping[str, object], now: float
    ) -> ModelRecord | None:
        """Set mutable fields (``display_name``, ``description``, sampling keys)."""
        with self._db.write() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM tuned_models WHERE id = ?", (model_id,)
            ).fetchone()
            if row is None:
                return None
            current = _record(row)
            sampling = dict(current.sampling)
            for key in ("temperature", "topP", "topK"):
                if key in changes:
                    value = changes[key]
                    if value is None:
                        sampling.pop(key, None)
                    elif isinstance(value, int | float):
                        sampling[key] = value
            conn.execute(
                "UPDATE tuned_models SET display_name = ?, description = ?, sampling = ?, "
                "update_time = ? WHERE id = ?",
                (
                    str(changes.get("display_name", current.display_name)),
                    str(changes.get("description", current.description)),
                    json.dumps(sampling, sort_keys=True),
                    now,
                    model_id,
                ),
            )
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM tuned_models WHERE id = ?", (model_id,)
            ).fetchone()
        return _record(row)

    def cancel(self, model_id: str, now: float) -> bool:
        """Stop training at ``now`` if it is still running; False when it had already ended
        (or was cancelled before). Atomic: the running check is part of the UPDATE."""
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE tuned_models SET cancel_time = ?, update_time = ? "
                "WHERE id = ? AND cancel_time IS NULL "
                "AND create_time + train_seconds * (CASE WHEN fail THEN 0.5 ELSE 1.0 END) > ?",
                (now, now, model_id, now),
            )
            return cur.rowcount > 0

    def delete(self, model_id: str) -> bool:
        with self._db.write() as conn:
            conn.execute("DELETE FROM training_examples WHERE model_id = ?", (model_id,))
            cur = conn.execute("DELETE FROM tuned_models WHERE id = ?", (model_id,))
            return cur.rowcount > 0

    def examples(self, model_id: str) -> list[tuple[str, str]]:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT examples FROM training_examples WHERE model_id = ?", (model_id,)
            ).fetchone()
        if row is None:
            return []
        return [(str(i), str(o)) for i, o in json.loads(row[0])]

    def reset(self) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM training_examples")
            conn.execute("DELETE FROM kept_models")
            conn.execute("DELETE FROM tuned_models")
            conn.execute("DELETE FROM documents")
            conn.execute("DELETE FROM blobs")

    # -- documents: JSON resources of the other dialects (Vertex AI, Cloud Storage) ----------

    def insert_doc(self, kind: str, doc_id: str, data: Mapping[str, Any]) -> None:
        """Create a document, or raise `AlreadyExists`: atomic across threads and processes."""
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO documents (kind, id, data) VALUES (?, ?, ?)",
                    (kind, doc_id, json.dumps(dict(data), sort_keys=True)),
                )
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(f"{kind}/{doc_id}") from e

    def put_doc(self, kind: str, doc_id: str, data: Mapping[str, Any]) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO documents (kind, id, data) VALUES (?, ?, ?)",
                (kind, doc_id, json.dumps(dict(data), sort_keys=True)),
            )

    def get_doc(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT data FROM documents WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
        return dict(json.loads(row[0])) if row is not None else None

    def docs(self, kind: str, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
        """Every document of ``kind`` whose ID starts with ``prefix``, sorted by ID."""
        with self._db.connection() as conn:
            rows = conn.execute(
                "SELECT id, data FROM documents WHERE kind = ? AND substr(id, 1, ?) = ? "
                "ORDER BY id",
                (kind, len(prefix), prefix),
            ).fetchall()
        return [(str(i), dict(json.loads(d))) for i, d in rows]

    def update_doc(
        self,
        kind: str,
        doc_id: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any] | None:
        """Read-modify-write one document in a single transaction; None when absent."""
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT data FROM documents WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
            if row is None:
                return None
            data = change(dict(json.loads(row[0])))
            conn.execute(
                "UPDATE documents SET data = ? WHERE kind = ? AND id = ?",
                (json.dumps(data, sort_keys=True), kind, doc_id),
            )
        return data

    def delete_doc(self, kind: str, doc_id: str) -> bool:
        with self._db.write() as conn:
            cur = conn.execute("DELETE FROM documents WHERE kind = ? AND id = ?", (kind, doc_id))
            return cur.rowcount > 0

    def put_blob(self, bucket: str, name: str, data: bytes) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO blobs (bucket, name, data) VALUES (?, ?, ?)",
                (bucket, name, data),
            )

    def get_blob(self, bucket: str, name: str) -> bytes | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT data FROM blobs WHERE bucket = ? AND name = ?", (bucket, name)
            ).fetchone()
        return bytes(row[0]) if row is not None else None

    def delete_blob(self, bucket: str, name: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM blobs WHERE bucket = ? AND name = ?", (bucket, name))


def _record(row: Sequence[object]) -> ModelRecord:
    (
        id_,
        display_name,
        description,
        base_model,
        hyperparameters,
        sampling,
        create_time,
        update_time,
        train_seconds,
        steps,
        per_epoch,
        example_count,
        seed,
        fail,
        cancel_time,
        operation_id,
        owner,
        readers,
    ) = row
    return ModelRecord(
        id=str(id_),
        display_name=str(display_name),
        description=str(description),
        base_model=str(base_model),
        hyperparameters=json.loads(str(hyperparameters)),
        sampling=json.loads(str(sampling)),
        create_time=float(str(create_time)),
        update_time=float(str(update_time)),
        train_seconds=float(str(train_seconds)),
        total_steps=int(str(steps)),
        steps_per_epoch=float(str(per_epoch)),
        example_count=int(str(example_count)),
        data_seed=int(str(seed)),
        fail=bool(fail),
        cancel_time=None if cancel_time is None else float(str(cancel_time)),
        operation_id=str(operation_id),
        owner=str(owner),
        readers=tuple(str(r) for r in json.loads(str(readers))),
    )
