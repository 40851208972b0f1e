"""SQLite connections for the emulator's store, in memory or in a file shared by processes.

In memory, one connection is shared by every request thread behind a lock. With a file, each
operation borrows a connection from a small pool; the file is in WAL mode with a busy timeout,
so several processes (concurrent ``apply`` runs on ``.gitops-tune/local.db``) can share it.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000


@dataclass
class _Pool:
    """Connections to a file database, one borrowed per operation."""

    path: str
    idle: queue.LifoQueue[sqlite3.Connection] = field(default_factory=queue.LifoQueue)
    size: int = 8


def _casefold(value: object) -> str:
    return str(value).casefold() if value is not None else ""


def _connect(target: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.create_function("casefold", 1, _casefold, deterministic=True)
    return conn


class Database:
    """``db_path=None``: in memory, for this process only. ``schema`` is run on opening (it
    must be idempotent: ``IF NOT EXISTS``, since processes may race there)."""

    def __init__(self, db_path: str | None, schema: str) -> None:
        self._lock = threading.Lock()
        self._shared: sqlite3.Connection | None = None
        self._pool: _Pool | None = None
        if db_path is None:
            self._shared = _connect(":memory:")
            self._shared.executescript(schema)
        else:
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            self._pool = _Pool(db_path)
            with self.connection() as conn:
                # WAL lets readers and one writer work at once across processes.
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.executescript(schema)  # IF NOT EXISTS: safe when processes race here

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (autocommit), held for the ``with`` block."""
        if self._shared is not None:
            with self._lock:
                yield self._shared
            return
        pool = self._pool
        assert pool is not None
        try:
            conn = pool.idle.get_nowait()
        except queue.Empty:
            conn = _connect(pool.path)
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if pool.idle.qsize() < pool.size:
            pool.idle.put(conn)
        else:
            conn.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front, so read-then-write never deadlocks."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        if self._shared is not None:
            with self._lock:
                self._shared.close()
        if self._pool is not None:
            while True:
                try:
                    self._pool.idle.get_nowait().close()
                except queue.Empty:
                    break
