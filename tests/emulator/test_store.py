"""SQLite persistence: restarts, and many threads and processes on one file."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from pathlib import Path

from gitops_tune.emulator.server import EmulatorConfig, start
from tests.emulator.emu_helpers import Api


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "sub" / "local.db")
    with start(EmulatorConfig(port=0, db_path=db, train_seconds=0.3)) as first:
        api = Api(first.url)
        assert api.create("kept").status_code == 200
        api.call("PATCH", "/v1beta/tunedModels/kept", {"description": "edited"})
        before = api.get("kept")
    time.sleep(0.35)
    # a restart with another --train-seconds does not change jobs already started
    with start(EmulatorConfig(port=0, db_path=db, train_seconds=100)) as second:
        after = Api(second.url).get("kept")
    assert after["description"] == "edited"
    assert after["createTime"] == before["createTime"]
    assert before["state"] == "CREATING" and after["state"] == "ACTIVE"
    assert len(after["tuningTask"]["snapshots"]) == 5


def test_a_file_from_before_the_owner_columns_is_brought_up_to_date(tmp_path: Path) -> None:
    import sqlite3

    from gitops_tune.emulator.store import SCHEMA

    db = tmp_path / "old.db"
    old_schema = SCHEMA.replace(
        ",\n    owner TEXT NOT NULL DEFAULT '',\n    readers TEXT NOT NULL DEFAULT '[]'", ""
    )
    assert old_schema != SCHEMA
    with sqlite3.connect(db) as conn:
        conn.executescript(old_schema)
    with start(EmulatorConfig(port=0, db_path=str(db), train_seconds=0)) as running:
        api = Api(running.url)
        assert api.create("after-upgrade", readerProjectNumbers=[7]).status_code == 200
        assert api.get("after-upgrade")["readerProjectNumbers"] == ["7"]


def test_in_memory_state_does_not_survive() -> None:
    with start(EmulatorConfig(port=0)) as first:
        Api(first.url).create("gone")
    with start(EmulatorConfig(port=0)) as second:
        assert Api(second.url).call("GET", "/v1beta/tunedModels").json() == {}


def test_concurrent_creates_of_one_id_on_two_servers_sharing_a_file(tmp_path: Path) -> None:
    db = str(tmp_path / "local.db")
    with (
        start(EmulatorConfig(port=0, db_path=db)) as a,
        start(EmulatorConfig(port=0, db_path=db)) as b,
    ):
        apis = [Api(a.url), Api(b.url)]
        statuses: list[int] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            for i in range(10):
                code = apis[n % 2].create(f"race-{i}").status_code
                with lock:
                    statuses.append(code)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses.count(200) == 10
        assert statuses.count(409) == 70
        page = apis[1].call("GET", "/v1beta/tunedModels", params={"pageSize": 100}).json()
        assert len(page["tunedModels"]) == 10


def _race(db: str, start_at: float, out: multiprocessing.Queue[list[int]]) -> None:
    with start(EmulatorConfig(port=0, db_path=db)) as running:
        api = Api(running.url)
        while time.time() < start_at:
            time.sleep(0.001)
        out.put([api.create(f"proc-{i}").status_code for i in range(15)])


def test_concurrent_processes_never_both_create_an_id(tmp_path: Path) -> None:
    db = str(tmp_path / "local.db")
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[list[int]] = ctx.Queue()
    start_at = time.time() + 1.5
    procs = [ctx.Process(target=_race, args=(db, start_at, out)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    codes = [c for r in results for c in r]
    assert codes.count(200) == 15
    assert codes.count(409) == 30


def test_a_finished_models_text_is_kept_for_the_next_process(tmp_path: Path) -> None:
    db = str(tmp_path / "local.db")
    with start(EmulatorConfig(port=0, db_path=db, train_seconds=0.2)) as first:
        assert Api(first.url).create("kept").status_code == 200
        time.sleep(0.3)
        listed = Api(first.url).call("GET", "/v1beta/tunedModels").json()
        kept = first.store.kept.get_many(["kept"])
        assert list(kept) == ["kept"]
    with start(EmulatorConfig(port=0, db_path=db)) as second:  # a new memo, the same store
        assert Api(second.url).call("GET", "/v1beta/tunedModels").json() == listed
        assert second.store.kept.get_many(["kept"]) == kept
    snapshots = listed["tunedModels"][0]["tuningTask"]["snapshots"]
    assert len(snapshots) == 5
    assert json.loads(kept["kept"][1]) == listed["tunedModels"][0]


def test_a_kept_text_is_served_only_for_the_record_it_was_computed_from(tmp_path: Path) -> None:
    """The same ID created again (same data, another create time) gets its own snapshots;
    deleting a model deletes its kept text."""
    db = str(tmp_path / "local.db")
    with start(EmulatorConfig(port=0, db_path=db, train_seconds=0.2)) as emu:
        api = Api(emu.url)
        assert api.create("again").status_code == 200
        time.sleep(0.3)
        first = api.call("GET", "/v1beta/tunedModels").json()["tunedModels"][0]
        assert api.call("DELETE", "/v1beta/tunedModels/again").status_code == 200
        assert emu.store.kept.get_many(["again"]) == {}
        time.sleep(0.01)
        assert api.create("again").status_code == 200
        time.sleep(0.3)
        second = api.call("GET", "/v1beta/tunedModels").json()["tunedModels"][0]  # memo: stale
        assert second == api.get("again")
    with start(EmulatorConfig(port=0, db_path=db)) as emu:  # the store's text: the new job's
        assert Api(emu.url).call("GET", "/v1beta/tunedModels").json()["tunedModels"] == [second]
    assert first["createTime"] != second["createTime"]
    assert first["tuningTask"]["snapshots"] != second["tuningTask"]["snapshots"]
