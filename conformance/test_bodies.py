"""Schema conformance: every JSON body recorded by the product's test suite (run with
``--record-wire``) parses strictly into Google's official message for its route."""

from __future__ import annotations

from collections import Counter
from typing import Any

from conformance.calls import TOOL_CALLS, TOOL_CLIENT
from conformance.strict import problem
from conformance.upstream import binding_for

SHOWN = 15


def _report(problems: Counter[str]) -> str:
    lines = [f"{n} x {text}" for text, n in problems.most_common(SHOWN)]
    more = len(problems) - SHOWN
    return "\n".join(lines + ([f"... and {more} more kinds"] if more > 0 else []))


def check_bodies(records: list[dict[str, Any]], *, response: bool) -> Counter[str]:
    problems: Counter[str] = Counter()
    for rec in records:
        if not 200 <= rec["status"] < 300:
            continue  # refused requests and error envelopes: not a message of the route
        method = rec["route"].split(" ", 1)[0]
        binding = binding_for(method, rec["path"])
        if binding is None:
            problems[f"{rec['route']}: no such method upstream"] += 1
            continue
        body = rec["response"] if response else rec["request"]
        media = bool(rec["query"].get("uploadType"))
        found = problem(binding, body, response=response, media=media)
        if found:
            problems[
                f"{binding.api} {binding.rpc} {'response' if response else 'request'}: {found}"
            ] += 1
    return problems


def test_corpus_covers_the_tool_calls(corpus: list[dict[str, Any]]) -> None:
    seen = set()
    for rec in corpus:
        binding = binding_for(rec["route"].split(" ", 1)[0], rec["path"])
        if binding is not None and 200 <= rec["status"] < 300:
            seen.add((binding.api, binding.rpc))
    assert not TOOL_CALLS - seen, f"never exercised by the tests: {sorted(TOOL_CALLS - seen)}"


def test_the_tool_calls_only_listed_methods(corpus: list[dict[str, Any]]) -> None:
    """Every request the providers sent (through google-genai or google-cloud-storage) goes
    to a listed upstream
    method (calls.py), so a provider cannot call a route Google does not serve."""
    strays: Counter[str] = Counter()
    for rec in corpus:
        if TOOL_CLIENT not in rec["client"]:
            continue
        binding = binding_for(rec["route"].split(" ", 1)[0], rec["path"])
        call = (binding.api, binding.rpc) if binding else None
        if call not in TOOL_CALLS:
            strays[f"{rec['route']} -> {call or 'no such method upstream'}"] += 1
    assert not strays, _report(strays)


def test_requests_parse_strictly(corpus: list[dict[str, Any]]) -> None:
    problems = check_bodies(corpus, response=False)
    assert not problems, _report(problems)


def test_responses_parse_strictly(corpus: list[dict[str, Any]]) -> None:
    problems = check_bodies(corpus, response=True)
    assert not problems, _report(problems)
