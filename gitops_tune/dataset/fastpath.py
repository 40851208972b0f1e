"""Tier 1 of the JSONL scan: a block of valid examples checked and fingerprinted in C.

`pairs_block` takes a block of whole lines and either returns the fingerprint lines of its
examples (exactly what `Fingerprinter.add` makes of each) with their count, or None, and then
the scanner's exact path reads the block line by line and says what is wrong, file:line. It
never decides that a row is wrong: it only decides that every row is right, so the
diagnostics stay those of the exact checker.

msgspec decodes every line into a typed record (the two fields as strings of at least one
character and at most the limit, in characters, the preamble counted), skipping other fields
as the exact path ignores them; its encoder writes JSON strings exactly as
``json.encoder.encode_basestring`` does (checked for every code point by the tests), so the
records encode to the fingerprint lines once the field names are swapped, which bytes
replacements do: in encoded JSON an unescaped quote is always structure.

Each line is decoded on its own (a blank line sends the block to the exact path), and a block
goes to the exact path whenever msgspec and the stdlib scanner could disagree:
- bytes that are not UTF-8 in a field msgspec skips (the exact path decodes the whole line);
- nesting deep enough to approach the interpreter's recursion limit;
- an integer longer than Python's ``int_max_str_digits``, which ``json`` refuses;
- an input or output that is only whitespace (Python's ``str.isspace``).
"""

from __future__ import annotations

import functools
import sys
from json.encoder import encode_basestring as json_string
from operator import attrgetter
from typing import Annotated, Any

from gitops_tune.dataset.checks import INPUT_LIMIT, OUTPUT_LIMIT

#: A line with more brackets than this (a bound on its nesting) goes to the exact path: far
#: below the recursion limit, where both parsers agree.
MAX_BRACKETS = 200
_BOM = b"\xef\xbb\xbf"
_DIGITS = b"0123456789"
_DIGIT_MASK = bytes(0x31 if c in _DIGITS else 0x30 for c in range(256))  # digits -> "1"
_input, _output = attrgetter("i"), attrgetter("o")
_max_digits = getattr(sys, "get_int_max_str_digits", lambda: 0)  # Python 3.10.7+


Lines = tuple[tuple[bytes | memoryview, ...], int]
"""Fingerprint lines joined by newlines (no final newline), in parts, and how many."""


class _Shape:
    """The decoder and the byte replacements for one (input field, output field, preamble)."""

    def __init__(self, fin: str, fout: str, preamble: str) -> None:
        import msgspec  # here: a scan worker whose blocks all take tier 0 never loads it

        text = Annotated[str, msgspec.Meta(min_length=1, max_length=INPUT_LIMIT - len(preamble))]
        output = Annotated[str, msgspec.Meta(min_length=1, max_length=OUTPUT_LIMIT)]
        record: Any = msgspec.defstruct(
            "Pair", [("i", text), ("o", output)], rename={"i": fin, "o": fout}, gc=False
        )
        self.decode = msgspec.json.Decoder(record).decode
        self.error = msgspec.MsgspecError
        self.encode = msgspec.json.Encoder().encode
        key_in, key_out = msgspec.json.encode(fin), msgspec.json.encode(fout)
        self.start = b'{"textInput":"' + json_string(preamble)[1:-1].encode()
        self.head = len(b"[{" + key_in + b':"')
        self.between = (b'"},{' + key_in + b':"', b'"}\n' + self.start)
        self.middle = (b'",' + key_out + b':"', b'","output":"')

    def lines(self, rows: list[Any]) -> Lines:
        """The fingerprint lines of ``rows``."""
        body = self.encode(rows)  # [{"<in>":"...","<out>":"..."},...]
        body = body.replace(*self.between)
        if self.middle[0] != self.middle[1]:
            body = body.replace(*self.middle)
        return (self.start, memoryview(body)[self.head : -1]), len(rows)


def applies(fin: str, fout: str, preamble: str) -> bool:
    """Whether the fast path can apply to these settings: distinct field names that need no
    escaping (msgspec's), a preamble that leaves room for an input."""
    plain = all(c not in '"\\' and c >= " " for c in fin + fout)
    return fin != fout and plain and len(preamble) < INPUT_LIMIT


@functools.lru_cache(maxsize=64)
def shape(fin: str, fout: str, preamble: str) -> _Shape | None:
    """The fast path for these settings, or None where it cannot apply."""
    return _Shape(fin, fout, preamble) if applies(fin, fout, preamble) else None


def pairs_block(block: bytes, first: bool, fin: str, fout: str, preamble: str) -> Lines | None:
    """A JSONL block (whole lines) whose every line is a valid example -> its fingerprint
    lines; anything else -> None (see the module docstring)."""
    found = shape(fin, fout, preamble)
    if found is None:
        return None
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()
    if first and block.startswith(_BOM):
        lines[0] = lines[0][3:]
    try:
        rows = list(map(found.decode, lines))
    except (found.error, RecursionError):
        return None  # a line that is not one valid example (a blank line too)
    if not _same_for_python(block, len(rows)):
        return None
    if any(map(str.isspace, map(_input, rows))) or any(map(str.isspace, map(_output, rows))):
        return None
    return found.lines(rows)


def _same_for_python(block: bytes, lines: int) -> bool:
    """No bytes, nesting or numbers where msgspec accepts what ``json`` refuses, in a block
    of ``lines`` objects, one a line."""
    if not block.isascii():
        try:
            block.decode()
        except UnicodeDecodeError:
            return False
    return _shallow(block, lines) and _short_numbers(block)


def _shallow(block: bytes, lines: int) -> bool:
    """No line nested near the recursion limit: a line's depth is at most its brackets, and
    every line has its own ``{`` (a block of flat objects, the common case, has only those)."""
    if b"[" not in block and block.count(b"{") == lines:
        return True
    return block.count(b"{") + block.count(b"[") - (lines - 1) <= MAX_BRACKETS


def _short_numbers(block: bytes) -> bool:
    """No run of digits longer than ``int_max_str_digits`` (``json`` refuses such integers).
    Such a run holds two neighbouring samples ``limit // 2`` bytes apart: most blocks are
    cleared by those samples alone."""
    limit = _max_digits()
    if not limit or len(block) <= limit:
        return True
    step = (limit + 1) // 2
    if b"11" not in block[::step].translate(_DIGIT_MASK):
        return True
    return b"1" * (limit + 1) not in block.translate(_DIGIT_MASK)
