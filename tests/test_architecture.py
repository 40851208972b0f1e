"""docs/architecture.md names the rooms and modules of the package: each one must exist."""

from __future__ import annotations

import re

from tests import ROOT

DOC = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "gitops_tune"


def test_every_room_and_module_the_architecture_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    rooms = re.findall(r"^### `([^`]+)`", text, flags=re.M)
    assert len(rooms) >= 10
    missing = [room for room in rooms if not (PACKAGE / room).exists()]
    assert missing == []
    for room in (r for r in rooms if r.endswith("/")):
        section = re.split(r"\n##+ ", text.split(f"### `{room}`", 1)[1], maxsplit=1)[0]
        for module in re.findall(r"`([a-z_]+\.py|[a-z_]+/)`", section):
            assert (PACKAGE / room / module).exists(), f"{room}{module} named but missing"


def test_every_room_of_the_package_is_described() -> None:
    text = DOC.read_text(encoding="utf-8")
    rooms = set(re.findall(r"^### `([^`]+)`", text, flags=re.M))
    packages = {f"{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages <= rooms
