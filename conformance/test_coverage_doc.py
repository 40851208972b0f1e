"""The coverage table in docs/emulator.md is what the generator makes now."""

from __future__ import annotations

from typing import Any

from conformance.calls import TOOL_CALLS
from conformance.coverage import BEGIN, DOC, END, handlers, table
from conformance.upstream import bindings


def test_the_table_in_the_doc_is_current(emulator_routes: list[dict[str, Any]]) -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert BEGIN in doc and END in doc, f"{DOC} lost its coverage markers"
    current = doc[doc.index(BEGIN) : doc.index(END) + len(END)]
    assert current == table(emulator_routes), (
        "docs/emulator.md's coverage table is stale: run "
        "`.venv-judge/bin/python -m conformance.coverage --write`"
    )


def test_the_table_shows_every_tool_call_served(emulator_routes: list[dict[str, Any]]) -> None:
    served = handlers(emulator_routes)
    for b in bindings():
        if (b.api, b.rpc) in TOOL_CALLS:
            assert (b.http_method, b.uri) in served, f"{b.rpc} {b.uri} is not served"
