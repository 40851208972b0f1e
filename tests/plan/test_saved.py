"""Saved plans round-trip, and refuse a plan of another format_version or a stale one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_tune.errors import UserError
from gitops_tune.plan import saved
from gitops_tune.providers.base import State
from tests.factories import desired, remote, run


def test_saved_plan_round_trips_and_refuses_a_stale_one(tmp_path: Path) -> None:
    path = str(tmp_path / "plan.json")
    p = run([desired()], [remote(state=State.TRAINING)])
    saved.write(path, p, ("manifests",))
    stored = saved.read(path)
    assert stored.paths == ("manifests",) and stored.workspace == p.workspace
    stored.check_still_valid(p)
    with pytest.raises(UserError, match="stale: the remote models changed"):
        stored.check_still_valid(run([desired()], [remote()]))


def test_a_plan_saved_in_format_1_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    saved.write(str(path), run([desired()], []), ())
    doc = json.loads(path.read_text())
    doc["plan"]["format_version"] = "1"
    path.write_text(json.dumps(doc))
    with pytest.raises(UserError, match="saved plan format '1'; this version reads '4'"):
        saved.read(str(path))
