"""The JSONL scan's fast path (msgspec) agrees with the exact checker on every example dataset,
every bad-row fixture and random rows: the same counts, sizes, fingerprints and diagnostics,
and it takes the blocks it can (else it would be no faster)."""

from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_tune.dataset import Fingerprinter, Scan, fastpath, file_source, scan, scanner

BASE = "models/gemini-1.5-flash-001-tuning"
HP = {"epochCount": 5, "batchSize": 4, "learningRate": 0.001}
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted([*REPO.glob("examples/data/*.jsonl"), *REPO.glob("examples-vertex/data/*.jsonl")])
PREAMBLE = "Route this: "


def both(path: Path, monkeypatch: pytest.MonkeyPatch, **kw: str) -> tuple[Scan, Scan]:
    """(with the fast paths, with the exact checker alone) for the same file and settings."""
    source = file_source(str(path), path.name, **kw)
    fast = scan(source, BASE, HP, None)
    with monkeypatch.context() as m:
        m.setattr(scanner, "FAST_PATHS", ())
        exact = scan(source, BASE, HP, None)
    return fast, exact


def taken(block: bytes, **kw: str) -> bool:
    fields = (kw.get("input_field", "text_input"), kw.get("output_field", "output"))
    return fastpath.pairs_block(block, True, *fields, kw.get("preamble", "")) is not None


def test_msgspec_writes_json_strings_exactly_as_the_fingerprint_does() -> None:
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    expected = ",".join(encode_basestring(c) for c in chars)
    assert msgspec.json.encode(chars) == b"[" + expected.encode() + b"]"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("kw", [{}, {"preamble": PREAMBLE}, {"preamble": 'Q "1"\n\t\u00e9: '}])
def test_every_example_dataset(
    path: Path, kw: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, exact = both(path, monkeypatch, **kw)
    assert fast == exact
    if "chat" not in path.name and "receipts" not in path.name:  # pairs: the fast path took them
        assert not exact.errors and taken(path.read_bytes(), **kw)


def test_the_bench_rows_take_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        {"text_input": f"Ticket {i}: it crashes\n", "output": "bug", "id": i} for i in range(300)
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fast, exact = both(path, monkeypatch, preamble=PREAMBLE)
    assert fast == exact and fast.count == 300
    assert taken(path.read_bytes(), preamble=PREAMBLE)


GOOD = json.dumps({"text_input": "good in", "output": "good out"})
DEEP = '{"text_input": "a", "output": "b", "x": %s}'
SPACES = [c for c in range(0x10000) if chr(c).isspace()]
#: Lines the exact checker refuses, or reads differently from msgspec's defaults, or that
#: come near a rule's edge: each must give the same result either way.
FIXTURES: list[bytes] = [
    b'{"text_input": "1", "output": 2}',
    b'{"text_input": "", "output": "2"}',
    b'{"text_input": "1", "output": "  "}',
    b'{"textInput": "1", "output": "2"}',
    b'["1", "2"]',
    b'{"messages": [{"role": "user", "content": "hi"}]}',
    b'{"text_input": ["a", "b"], "output": "c"}',
    b"{not json",
    b'{"text_input": "1", "output": "2", "id": 7}',
    b'{"text_input": "a", "output": "b", "text_input": "c"}',
    b'{"text_input": "a", "output": "b", "output": " "}',
    b'{"text_input": 1, "output": "b", "text_input": "c"}',
    b'{"text_input": "a\\ud800", "output": "b"}',
    b'{"text_input": "a\\ud83d\\ude00", "output": "b"}',
    b'{"text_input": "a", "output": "b", "x": "\\udc00"}',
    b'{"text_input": "a", "output": "b", "x": "\xff"}',
    b'{"text_input": "a", "output": "b", "x": "\xed\xa0\x80"}',
    b'{"text_input": "\xc3\xa9", "output": "\xe2\x9c\x93"}',
    b'{"text_input": "a", "output": "b", "x": NaN}',
    b'{"text_input": "a", "output": "b", "x": -Infinity}',
    b'{"text_input": "a", "output": "b", "x": 1e400}',
    b'{"text_input": "a", "output": "b", "x": ' + b"7" * 4300 + b"}",
    b'{"text_input": "a", "output": "b", "x": ' + b"7" * 4301 + b"}",
    b'{"text_input": "a", "output": "b", "x": -' + b"7" * 5000 + b".5}",
    b'{"text_input": "' + b"7" * 5000 + b'", "output": "b"}',
    *(DEEP.encode() % (b"[" * n + b"]" * n) for n in (150, 250, 990, 1000, 1100, 100_000)),
    *(DEEP.encode() % (b'{"y":' * n + b"1" + b"}" * n) for n in (150, 250, 1100)),
    b'{"text_input": "a", "output": "b"}\r',
    b'  {"text_input": "a", "output": "b"}  ',
    b'{"text_input": "a", "output": "b"}\t\x0c',
    b'{"text_input": "a", "output": "b"}\xe3\x80\x80',
    b'\x0c{"text_input": "a", "output": "b"}',
    b'{"text_input": "a",\x0c"output": "b"}',
    b'{"text_input": "a", "output": "b"} {"text_input": "c", "output": "d"}',
    b'{"text_input": "a", "output": "b"},{"text_input": "c", "output": "d"}',
    b'{"text_input": "a",',
    b'"output": "b"}',
    b"",
    b"   ",
    b"\xe3\x80\x80",
    b'{"text_input": "a\x01", "output": "b"}',
    b'{"text_input": "a\\/b \\u00e9 \\u00E9 \\t", '
    b'"output": "\\"q\\" \\\\ \\b\\f\\n\\r \\u001f \\u007f"}',
    b'{"text_input": "' + b"x" * 40_000 + b'", "output": "b"}',
    b'{"text_input": "' + b"x" * 39_988 + b'", "output": "b"}',
    b'{"text_input": "' + b"x" * 39_989 + b'", "output": "b"}',
    b'{"text_input": "' + "\U0001f600".encode() * 39_988 + b'", "output": "b"}',
    b'{"text_input": "a", "output": "' + b"y" * 5000 + b'"}',
    b'{"text_input": "a", "output": "' + b"y" * 5001 + b'"}',
    b'{"text_input": "a", "output": "' + "\u00e9".encode() * 5001 + b'"}',
    b'{"contents": [{"role": "user", "parts": [{"text": "hi"}]}, '
    b'{"role": "model", "parts": [{"text": "yo"}]}]}',
    b"null",
    b"7",
    b'"text"',
    *(b'{"text_input": "%s", "output": "b"}' % chr(c).encode() for c in SPACES if c >= 0x20),
    *(b'{"text_input": "a", "output": "\\u%04x"}' % c for c in SPACES),
    *(b'{"text_input": "a", "output": "\\u%04X \\n"}' % c for c in SPACES),
    b'{"text_input": "a", "output": "\\u3000x"}',
]


@pytest.mark.parametrize("line", FIXTURES, ids=range(len(FIXTURES)))
@pytest.mark.parametrize("kw", [{}, {"preamble": "Long preamble of twelve"}])
def test_every_bad_row_fixture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: bytes, kw: dict[str, str]
) -> None:
    path = tmp_path / "d.jsonl"
    for data in (line + b"\n", GOOD.encode() + b"\n" + line + b"\n" + GOOD.encode(), line):
        path.write_bytes(data)
        fast, exact = both(path, monkeypatch, **kw)
        assert fast == exact
    fields = ("text_input", "output", kw.get("preamble", ""))
    found = fastpath.pairs_block(line + b"\n", False, *fields)
    if found is not None:  # a line the fast path takes is one the exact path finds valid
        fp = Fingerprinter(BASE, HP)
        fp.add_lines(*found)
        assert not exact.errors and (fp.hexdigest(), fp.size) == (exact.fingerprint, exact.size)


def test_a_byte_order_mark_starts_only_the_first_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode() + b"\n" + GOOD.encode() + b"\n")
    fast, exact = both(path, monkeypatch)
    assert fast == exact and fast.count == 2 and not fast.errors
    assert (
        fastpath.pairs_block(b"\xef\xbb\xbf" + GOOD.encode(), False, "text_input", "output", "")
        is None
    )


@pytest.mark.parametrize(
    "fields",
    [("q", "a"), ("output", "text_input"), ('in"put', "out\\put"), ("x", "x"), ("é", "ü")],
)
def test_other_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: tuple[str, str]
) -> None:
    fin, fout = fields
    rows = [{fin: f"in {i}", fout: f"out {i}", "other": [i]} for i in range(30)]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    kw = {"input_field": fin, "output_field": fout, "preamble": "P: "}
    fast, exact = both(path, monkeypatch, **kw)
    assert fast == exact
    assert taken(path.read_bytes(), **kw) == (
        fields in {("q", "a"), ("output", "text_input"), ("é", "ü")}
    )


text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)
row = st.fixed_dictionaries(
    {"text_input": text, "output": text},
    optional={"id": st.integers() | st.floats(allow_nan=False) | text | st.none()},
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=30), ascii=st.booleans(), preamble=text)
def test_random_rows(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[dict[str, object]],
    ascii: bool,
    preamble: str,
) -> None:
    path = tmp_path_factory.mktemp("rows") / "d.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=ascii) + "\n" for r in rows), encoding="utf-8"
    )
    source = file_source(str(path), path.name, preamble=preamble)
    fast = scan(source, BASE, HP, None)
    saved = scanner.FAST_PATHS
    scanner.FAST_PATHS = ()
    try:
        exact = scan(source, BASE, HP, None)
    finally:
        scanner.FAST_PATHS = saved
    assert fast == exact


def test_a_line_nested_near_the_recursion_limit_goes_to_the_exact_path() -> None:
    """msgspec and ``json`` both stop at the interpreter's recursion limit, but not at the
    same depth: a line with more brackets than `MAX_BRACKETS` is left to the exact path."""
    n = fastpath.MAX_BRACKETS
    shallow, deep = (DEEP.encode() % (b"[" * k + b"]" * k) for k in (n - 1, n))
    assert taken(GOOD.encode() + b"\n" + shallow + b"\n")
    assert not taken(GOOD.encode() + b"\n" + deep + b"\n")
