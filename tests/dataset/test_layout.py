"""The JSONL scan's tier 0 (`gitops_tune.dataset.layout`) held to the exact checker's bar on
its own: the same counts, sizes, fingerprints and diagnostics for every example dataset, the
bad-row fixtures, random rows, random edits of valid blocks and blocks built to pass naive
counts; and it takes the layout ``json.dumps`` writes (else the first scan would silently fall
back to tier 1's speed). Every test runs twice: on the compiled scan (`_layout.c`) and on the
byte operations that run where no C compiler was at hand.

``.ci/run`` sets ``GITOPS_TUNE_COMPILED=required``: there a compiled scan that did not build
fails its tests rather than skipping them."""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_tune.dataset import Fingerprinter, Scan, fastpath, file_source, layout, scan, scanner
from tests.dataset.test_fastpath import BASE, FIXTURES, GOOD, HP, REPO

PRE = "Classify this support ticket: "


@pytest.fixture(autouse=True, params=["compiled", "python"])
def tier0_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "python":
        monkeypatch.setattr(layout, "compiled", None)
    elif layout.compiled is None:
        why = "gitops_tune.dataset._layout was not built (no C compiler at install time?)"
        if os.environ.get("GITOPS_TUNE_COMPILED") == "required":
            pytest.fail(why)
        pytest.skip(why)
    yield request.param


def both(path: Path, monkeypatch: pytest.MonkeyPatch, **kw: str) -> tuple[Scan, Scan]:
    """(tier 0, then the exact path), (the exact path alone) for the same file."""
    source = file_source(str(path), path.name, **kw)
    with monkeypatch.context() as m:
        m.setattr(scanner, "FAST_PATHS", (layout.pairs_block,))
        fast = scan(source, BASE, HP, None)
        m.setattr(scanner, "FAST_PATHS", ())
        exact = scan(source, BASE, HP, None)
    return fast, exact


def tier0(
    block: bytes,
    preamble: str,
    fields: tuple[str, str] = ("text_input", "output"),
    first: bool = True,
) -> fastpath.Lines | None:
    return layout.pairs_block(block, first, *fields, preamble)


def digest(found: fastpath.Lines) -> tuple[str, int, int]:
    fp = Fingerprinter(BASE, HP)
    fp.add_lines(*found)
    return fp.hexdigest(), fp.size, fp.count


def bench_rows(n: int, seed: int = 7) -> bytes:
    """Rows as `bench/plan_scale.py write_tree` writes them."""
    rng = random.Random(seed)
    words = ["refund", "login", "urgent", "invoice", "safari", "quota", "sync", "the", "our"]
    lines = []
    for _ in range(n):
        ticket = " ".join(rng.choice(words) for _ in range(rng.randint(3, 30))).capitalize()
        answer = f"billing: {' '.join(rng.choice(words) for _ in range(5))}."
        lines.append(json.dumps({"text_input": ticket + ".", "output": answer}) + "\n")
    return "".join(lines).encode()


def test_the_bench_layout_takes_tier_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = bench_rows(500)
    found = tier0(data, PRE)
    assert found is not None and found[1] == 500
    assert digest(found) == digest(fastpath.pairs_block(data, True, "text_input", "output", PRE))  # type: ignore[arg-type]
    compact = data.replace(b'": "', b'":"').replace(b'", "', b'","')
    assert tier0(compact, PRE) is not None
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    fast, exact = both(path, monkeypatch, preamble=PRE)
    assert fast == exact and fast.count == 500 and not fast.errors


def test_the_whitespace_leads_are_those_of_every_code_point() -> None:
    found = {chr(c).encode()[0] for c in range(0x80, sys.maxunicode + 1) if chr(c).isspace()}
    assert found == set(layout.SPACE_LEADS)


@pytest.mark.parametrize("path", sorted(REPO.glob("examples*/**/*.jsonl")), ids=str)
def test_every_example_dataset(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for preamble in ("", PRE, 'Q "1"\n\t\u00e9: '):
        fast, exact = both(path, monkeypatch, preamble=preamble)
        assert fast == exact
        if path.parent.parent.name == "examples":  # the pairs, as json.dumps writes them
            assert tier0(path.read_bytes(), preamble) is not None


@pytest.mark.parametrize("line", FIXTURES, ids=range(len(FIXTURES)))
def test_every_bad_row_fixture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: bytes
) -> None:
    path = tmp_path / "d.jsonl"
    for data in (line + b"\n", GOOD.encode() + b"\n" + line + b"\n" + GOOD.encode(), line):
        path.write_bytes(data)
        fast, exact = both(path, monkeypatch, preamble=PRE)
        assert fast == exact
        found = tier0(data, PRE)
        if found is not None:  # a block tier 0 takes is one the exact path finds valid
            assert not exact.errors and digest(found) == (
                exact.fingerprint,
                exact.size,
                exact.count,
            )


OK = b'{"text_input": "a b", "output": "c d"}\n'
#: Blocks built to pass naive counts (lines, quotes, separators): tier 0 must refuse each.
ADVERSARIAL: dict[str, bytes] = {
    "two objects on one line, a field missing on the next": (
        b'{"text_input": "a", "output": "b"}{"text_input": "c", "output": "d"}\n'
        b'{"text_input": "e"}\n{"text_input": "f"}\n'
    ),
    "a duplicate output, a field missing on the next": (
        b'{"text_input": "a", "output": "b", "output": "c"}\n{"text_input": "d"}\n'
    ),
    "keys swapped": b'{"output": "b", "text_input": "a"}\n',
    "an extra string field": b'{"text_input": "a", "output": "b", "x": "y"}\n',
    "a duplicate key": b'{"text_input": "a", "text_input": "b", "output": "c"}\n',
    "a nested object": b'{"text_input": "a", "output": {"b": "c"}}\n',
    "a leading space": b' {"text_input": "a", "output": "b"}\n',
    "a field's leading space": b'{"text_input": " a", "output": "b"}\n',
    "trailing spaces": b'{"text_input": "a", "output": "b"}  \n',
    "CRLF": b'{"text_input": "a", "output": "b"}\r\n',
    "a tab": b'{"text_input": "a\tb", "output": "c"}\n',
    "a NUL": b'{"text_input": "a", "output": "b\x00"}\n',
    "invalid UTF-8": b'{"text_input": "a\xff", "output": "b"}\n',
    "a lone surrogate": b'{"text_input": "a\xed\xa0\x80", "output": "b"}\n',
    "U+3000 only": '{"text_input": "\u3000", "output": "b"}\n'.encode(),
    "U+00A0 only": '{"text_input": "a", "output": "\u00a0"}\n'.encode(),
    "an empty input": b'{"text_input": "", "output": "b"}\n',
    "an empty output": b'{"text_input": "a", "output": ""}\n',
    "a blank line": OK + b"\n" + OK,
    "M at P's last quote (s=3)": b'{"text_input": ", "output": "abc"d"}\n',
    "M at E's quote (s=5)": b'{"text_input": "a"x", "output": "}\n',
    "an escaped quote": b'{"text_input": "a\\"b", "output": "c"}\n',
    "a number": b'{"text_input": "a", "output": 5, "x": "yy"}\n',
    "an output of 5,001 characters": b'{"text_input": "a", "output": "' + b"y" * 5001 + b'"}\n',
    "5,001 two-byte characters": b'{"text_input": "a", "output": "'
    + "\u00e9".encode() * 5001
    + b'"}\n',
    "a BOM past the first block": b"\xef\xbb\xbf" + OK,
    "empty": b"",
}


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_adversarial_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    data = ADVERSARIAL[name]
    assert tier0(data, PRE, first=False) is None
    path = tmp_path / "d.jsonl"
    for block in (data, OK + data + OK, OK * 3 + data):
        path.write_bytes(block)
        fast, exact = both(path, monkeypatch, preamble=PRE)
        assert fast == exact


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + OK + OK,
        OK + OK[:-1],
        OK + b'{"text_input": "\xc3\xa9 \xe2\x9c\x93", "output": "\xf0\x9f\x98\x80"}\n',
        OK + b'{"text_input": "a", "output": "' + b"y" * 4000 + b'"}\n',
        OK + b'{"text_input": "{\\u0020}", "output": "b"}\n'.replace(b"\\u0020", b"x"),
    ],
    ids=["BOM", "no final newline", "non-ASCII", "a long output", "braces"],
)
@pytest.mark.parametrize("preamble", ["", PRE, 'Q "1"\n\t\u00e9: ', ", "])
def test_what_tier_0_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, preamble: str
) -> None:
    found = tier0(data, preamble)
    assert found is not None
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    fast, exact = both(path, monkeypatch, preamble=preamble)
    assert fast == exact and not exact.errors
    assert digest(found) == (exact.fingerprint, exact.size, exact.count)


@pytest.mark.parametrize(
    "fields", [("q", "a"), (",q", "a"), ("", "a"), ("x", "x"), ('q"', "a"), ("é", "ü")]
)
def test_field_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: tuple[str, str]
) -> None:
    fin, fout = fields
    rows = [{fin: f"in {i}", fout: f"out {i}"} for i in range(30)]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    kw = {"input_field": fin, "output_field": fout, "preamble": PRE}
    fast, exact = both(path, monkeypatch, **kw)
    assert fast == exact
    assert (tier0(path.read_bytes(), PRE, fields) is not None) == (
        fields in {("q", "a"), ("é", "ü")}
    )


def test_a_preamble_near_the_input_limit_is_refused() -> None:
    assert layout.shape("text_input", "output", "p" * 39_000) is not None
    assert layout.shape("text_input", "output", "p" * (40_000 - 2 * layout.MIN_STEP + 1)) is None


text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)
row = st.fixed_dictionaries({"text_input": text, "output": text})


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(row, min_size=1, max_size=30),
    ascii=st.booleans(),
    compact=st.booleans(),
    preamble=text,
)
def test_random_rows(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[dict[str, object]],
    ascii: bool,
    compact: bool,
    preamble: str,
) -> None:
    separators = (",", ":") if compact else (", ", ": ")
    data = "".join(json.dumps(r, ensure_ascii=ascii, separators=separators) + "\n" for r in rows)
    path = tmp_path_factory.mktemp("rows") / "d.jsonl"
    path.write_bytes(data.encode())
    with pytest.MonkeyPatch.context() as m:
        fast, exact = both(path, m, preamble=preamble)
    assert fast == exact


@pytest.mark.parametrize(
    ("field", "chars", "taken"),
    [
        ("output", 5000, True),
        ("output", 5001, False),
        ("text_input", 40_000 - len(PRE), True),
        ("text_input", 40_001 - len(PRE), False),
    ],
)
def test_a_field_s_length_is_counted_in_characters(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tier0_kind: str,
    field: str,
    chars: int,
    taken: bool,
) -> None:
    row = {"text_input": "a", "output": "b"} | {field: "\u00e9\u2713"[chars % 2] * chars}
    data = OK + json.dumps(row, ensure_ascii=False).encode() + b"\n"
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    fast, exact = both(path, monkeypatch, preamble=PRE)
    assert fast == exact and bool(exact.errors) is not taken
    found = tier0(data, PRE)
    if tier0_kind == "compiled":  # the exact count: the byte operations only bound it
        assert (found is not None) is taken
    if found is not None:
        assert digest(found) == (exact.fingerprint, exact.size, exact.count)


#: Bytes that matter to the layout, for random edits of a valid block.
EDIT_BYTES = b'"\\\n\r\t {}[],: \x00\x7f\xc3\xa9\xe2\x80\xa8\xed\xa0\x80\xff\xef\xbb\xbfaz0'


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.integers(0, 3),
            st.binary(max_size=3) | st.sampled_from(EDIT_BYTES).map(lambda b: bytes([b])),
        ),
        min_size=1,
        max_size=4,
    ),
    compact=st.booleans(),
)
def test_random_edits_of_a_valid_block(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, int, bytes]], compact: bool
) -> None:
    """A block that tier 0 takes after any edit is one the exact path finds valid, with the
    same fingerprint (and the compiled scan reads no byte outside the block)."""
    data = bench_rows(4, seed=len(edits))
    if compact:
        data = data.replace(b'": "', b'":"').replace(b'", "', b'","')
    for at, cut, insert in edits:
        at %= len(data) + 1
        data = data[:at] + insert + data[at + cut :]
    found = tier0(data, PRE)
    if found is None:
        return
    path = tmp_path_factory.mktemp("edit") / "d.jsonl"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(scanner, "FAST_PATHS", ())
        exact = scan(file_source(str(path), "d.jsonl", preamble=PRE), BASE, HP, None)
    assert not exact.errors
    assert digest(found) == (exact.fingerprint, exact.size, exact.count)
