"""The JSONL scan's tier 0: a block that already is almost its own fingerprint lines.

A file written by ``json.dumps`` (or compactly) with plain strings has every line laid out as

    P A M B E        P = ``{"<in>": "``, M = ``", "<out>": "``, E = ``"}``   (default)
                     P = ``{"<in>":"``,  M = ``","<out>":"``,   E = ``"}``   (compact)

with A and B free of quotes and backslashes, so that ``encode_basestring`` leaves them as
they are. Its fingerprint lines (`gitops_tune.dataset.fingerprints`) are then the block with
two replacements: M -> ``","output":"`` and P -> ``{"textInput":"<escaped preamble>``.
`pairs_block` proves the layout with C-speed bytes operations (no per-row Python, no JSON
decoding) and returns those lines; anything it cannot prove returns None and the block goes
to the next tier. Like every tier it never decides that a row is wrong, so the diagnostics
stay those of the exact path.

Why the checks prove every line is ``P A M B E`` with A, B valid, non-blank and short enough:

1. *skeleton*: deleting every byte but the quote, the backslash, the newline and control
   bytes leaves 8 quotes and a newline once per line (`_SKELETON`): every line ends in a
   newline and holds exactly 8 quotes, no backslash and no control byte (JSON forbids them
   raw in a string; ``\\r`` falls through);
2. the block starts with P and ends with E and a newline; M, then E + newline + P, split it
   into lines + 1 and lines parts (replacing M first changes no line's first or last bytes:
   M and its replacement both begin and end with a quote), so every line starts with P and
   ends with E. They cannot overlap (that line would hold 3 quotes), so P holds a line's
   quotes 1-3, E its quote 8, and 4-7 lie between;
3. M holds 4 quotes, begins and ends with one, and the field names hold none, so an M
   occurrence covers 4 consecutive quotes of one line, from quote s: s = 1 needs an input
   field name starting with ``,`` (refused), s = 2 would put ``,`` where P has ``:``. Two
   occurrences that do not overlap would need s = 1 and 5, so a line holds at most one, and
   lines + 1 parts put exactly one in every line;
4. the byte after P (A's first) is not ``,`` (s = 3 would begin M at P's last quote) and the
   byte after M (B's first) is not ``}`` (s = 5 would end M at E's quote): M is at s = 4, so
   the line is P A M B E with A, B the quote-free bytes between quotes 3-4 and 7-8 -- one
   JSON object with exactly the two fields, whose strings are A and B verbatim;
5. neither first byte is a quote (an empty field) or whitespace (ASCII, or the first byte of
   a character Python's ``str.isspace`` accepts), so no field is empty or blank;
6. UTF-8: ``isascii`` or a successful ``decode``;
7. length: characters <= bytes, and a quote-free stretch of 2 * ``step`` bytes holds a whole
   window ``[k * step, (k + 1) * step)``; every window holds a quote, so every field is
   shorter than 2 * ``step`` <= the smaller of the two limits.

Splitting and joining replaces M and P in two passes over the block (cheaper than
``bytes.replace``, which counts first), and the same parts give the first bytes of 4-5.

Where the package was built with a C compiler (``setup.py``), `_layout.c` reads each line
as P A M B E in one pass instead, with the same rules on A and B but their exact length in
characters, and writes the lines as it goes: about five times as fast as the byte operations,
which Python cannot make much faster (each of the two replacements needs a search and a copy
of the block). Either way the block must be UTF-8 (6).
"""

from __future__ import annotations

import functools
from itertools import repeat
from json.encoder import encode_basestring as json_string
from operator import itemgetter
from types import ModuleType

from gitops_tune.dataset import fastpath
from gitops_tune.dataset.checks import INPUT_LIMIT, OUTPUT_LIMIT
from gitops_tune.dataset.fastpath import Lines

try:
    from gitops_tune.dataset import _layout
except ImportError:  # installed without a C compiler: the byte operations below
    _layout = None  # type: ignore[assignment]

#: The compiled tier 0, if it was built (the tests and the benchmark turn it off to compare).
compiled: ModuleType | None = _layout

_BOM = b"\xef\xbb\xbf"
_CONTROL = bytes(c for c in range(32) if c != 10)
#: Deleted for the skeleton: every byte but quote, backslash, newline and control bytes.
_NOT_SKELETON = bytes(c for c in range(256) if c not in b'"\\\n' + _CONTROL)
_SKELETON = b'"' * 8 + b"\n"
#: A field's first byte that proves nothing (4 and 5 of the module docstring): deleting the
#: others from the first bytes must leave nothing.
#: The first bytes of the non-ASCII characters ``str.isspace`` accepts (U+0085 ... U+3000;
#: the tests derive them from every code point).
SPACE_LEADS = b"\xc2\xe1\xe2\xe3"
_BAD_FIRST = frozenset([*range(0x21), *b'"\\,}', *SPACE_LEADS])
_GOOD_FIRST = bytes(c for c in range(256) if c not in _BAD_FIRST)
_GOOD_FIRST_FLAGS = bytes(c not in _BAD_FIRST for c in range(256))  # for `_layout.c`
_first = itemgetter(0)
#: Below this window (a preamble near the input limit), sampling costs more than it proves.
MIN_STEP = 64


class Layout:
    """The byte patterns of one layout for (input field, output field, preamble)."""

    def __init__(self, fin: bytes, fout: bytes, start: bytes, compact: bool) -> None:
        colon, comma = (b":", b",") if compact else (b": ", b", ")
        self.prefix = b'{"' + fin + b'"' + colon + b'"'
        self.middle = b'"' + comma + b'"' + fout + b'"' + colon + b'"'
        self.boundary = b'"}\n' + self.prefix
        self.start = start
        self.canonical = (b'","output":"', b'"}\n' + start)

    def lines(self, block: bytes, rows: int) -> Lines | None:
        """Steps 2-5 of the module docstring on a block of ``rows`` lines that passed step 1,
        and the lines."""
        by_middle = block.split(self.middle)
        if len(by_middle) != rows + 1 or not block.endswith(b'"}\n'):
            return None
        body = self.canonical[0].join(by_middle)
        by_line = body.split(self.boundary)
        if len(by_line) != rows:
            return None
        try:
            firsts = bytes(map(_first, by_middle[1:])) + bytes(map(_first, by_line[1:]))
        except IndexError:
            return None
        if firsts.translate(None, _GOOD_FIRST) or block[len(self.prefix)] not in _GOOD_FIRST:
            return None
        body = self.canonical[1].join(by_line)
        return (self.start, memoryview(body)[len(self.prefix) : -1]), rows

    def compiled_lines(self, scan: ModuleType, block: bytes, input_limit: int) -> Lines | None:
        """`_layout.c`'s reading (``scan``) of a block that ends in a newline, and the lines."""
        found = scan.pairs(
            block,
            self.prefix,
            self.middle,
            self.start,
            self.canonical[0],
            input_limit,
            OUTPUT_LIMIT,
            _GOOD_FIRST_FLAGS,
        )
        if found is None:
            return None
        lines, rows, all_ascii = found
        return ((lines,), rows) if all_ascii or _utf8(block) else None


class _Shape:
    """Both layouts and the sampling step for one (input field, output field, preamble)."""

    def __init__(self, fin: str, fout: str, preamble: str) -> None:
        start = b'{"textInput":"' + json_string(preamble)[1:-1].encode()
        names = fin.encode(), fout.encode()
        self.layouts = (Layout(*names, start, False), Layout(*names, start, True))
        self.input_limit = INPUT_LIMIT - len(preamble)
        self.step = min(self.input_limit, OUTPUT_LIMIT) // 2

    def layout(self, block: bytes) -> Layout | None:
        """The layout the block's first line starts as."""
        for found in self.layouts:
            if block.startswith(found.prefix):
                return found
        return None


@functools.lru_cache(maxsize=64)
def shape(fin: str, fout: str, preamble: str) -> _Shape | None:
    """Tier 0 for these settings, or None where it cannot apply: the names of tier 1's rules
    (no quote, backslash or control character, distinct), not empty, the input's not starting
    with ``,``; a preamble that encodes and leaves a window of at least `MIN_STEP`."""
    if not fastpath.applies(fin, fout, preamble) or not fin or not fout or fin[0] == ",":
        return None
    try:
        found = _Shape(fin, fout, preamble)
    except UnicodeEncodeError:  # a lone surrogate
        return None
    return found if found.step >= MIN_STEP else None


def pairs_block(block: bytes, first: bool, fin: str, fout: str, preamble: str) -> Lines | None:
    """A JSONL block (whole lines) laid out as the module docstring says -> its fingerprint
    lines; anything else -> None."""
    found = shape(fin, fout, preamble)
    if found is None:
        return None
    if first and block.startswith(_BOM):
        block = block[3:]
    if not block.endswith(b"\n"):
        block += b"\n"  # the file's last line
    layout = found.layout(block)
    if layout is None:
        return None
    if compiled is not None:
        return layout.compiled_lines(compiled, block, found.input_limit)
    skeleton = block.translate(None, _NOT_SKELETON)
    rows = len(skeleton) // len(_SKELETON)
    if not rows or skeleton != _SKELETON * rows:
        return None
    if not _short(block, found.step) or not _utf8(block):
        return None
    return layout.lines(block, rows)


def _short(block: bytes, step: int) -> bool:
    """Every window of ``step`` bytes holds a quote (step 7)."""
    starts = range(0, len(block) - step + 1, step)
    return -1 not in map(block.find, repeat(b'"'), starts, range(step, len(block) + 1, step))


def _utf8(block: bytes) -> bool:
    if block.isascii():
        return True
    try:
        block.decode()
    except UnicodeDecodeError:
        return False
    return True
