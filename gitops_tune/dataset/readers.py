"""Reading data files as a stream of items: a `Row` per example, a `Diagnostic` per problem.

Every reader is a generator that opens its file when first asked for an item; nothing here
holds a whole dataset in memory, except a ``.json`` array, which is parsed whole (and capped
at `MAX_JSON_FILE_BYTES`). Text is UTF-8; a leading BOM is dropped.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from stat import S_ISLNK

from gitops_tune.dataset.records import SUFFIXES, DatasetError, Item, Row, Source
from gitops_tune.errors import Diagnostic, Location

MAX_JSON_FILE_BYTES = 64 * 1024 * 1024  # a .json array is parsed whole: bound what is held
#: JSONL is read in blocks of whole lines of about this size: under the C library's threshold
#: for mapping fresh pages (128 KiB), so the buffers of one block are reused for the next
#: instead of each costing a page fault per 4 KiB.
BLOCK_BYTES = 64 << 10
#: A file up to this size is one block, read at once: no joining of a block's pieces, no
#: per-block overhead (many small datasets), and its passes still fit a core's cache.
WHOLE_BYTES = 256 << 10

#: The C scanner behind `json.loads`, called directly: ``(text, index) -> (value, end)``.
scan_json: Callable[[str, int], tuple[object, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


class RealPaths:
    """``os.path.realpath`` with the folders' answers kept: the manifests of a tree and their
    data files share a few folders, and resolving each path from the root costs an ``lstat``
    per component. One per batch (a command's run): nothing is kept longer."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        return self.stat(os.path.abspath(path), follow=False)[0]

    def stat(self, path: str, follow: bool = True) -> tuple[str, os.stat_result | None]:
        """The resolved path and, with ``follow``, its ``stat`` (a file that is not a link
        is its folder's resolved path and its name, and its ``lstat`` is its ``stat``).
        Raises `OSError` where ``follow`` needs a file that cannot be had."""
        folder, name = os.path.split(path)
        try:
            st: os.stat_result | None = os.lstat(path)
        except OSError:
            if follow:
                raise
            st = None
        if name in ("", ".", "..") or (st is not None and S_ISLNK(st.st_mode)):
            real = os.path.realpath(path)
            return real, os.stat(real) if follow else None
        if folder not in self._folders:
            self._folders[folder] = os.path.realpath(folder)
        return os.path.join(self._folders[folder], name), st


# --- text -------------------------------------------------------------------------------------


def decode_utf8(data: bytes, display: str) -> str:
    """Decode a whole file; raise `DatasetError` naming the line and byte offset if invalid."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DatasetError(
            Diagnostic(f"not valid UTF-8 (byte offset {e.start})", Location(display, line))
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _lines(path: str, display: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text)`` of a UTF-8 file, BOM removed; `DatasetError` if invalid."""
    offset = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DatasetError(
                    Diagnostic(
                        f"not valid UTF-8 (byte offset {offset + e.start})",
                        Location(display, number),
                    )
                ) from None
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            offset += len(raw)
            yield number, text


def cannot_read(display: str, e: OSError) -> Diagnostic:
    return Diagnostic(f"cannot read: {e.strerror or e}", Location(display))


# --- JSONL ------------------------------------------------------------------------------------


def jsonl_blocks(path: str) -> Iterator[tuple[int, bytes]]:
    """``(byte offset, block)``: the file in blocks that end at a newline (the last may not).
    Splitting at ``\\n`` bytes is exactly how binary line iteration splits, and UTF-8 never
    puts a ``\\n`` byte inside a character. The caller counts lines (a block's first line is
    one more than the newlines before it)."""
    offset, rest = 0, b""
    with open(path, "rb", buffering=0) as f:  # reads of whole blocks: no buffer between
        if os.fstat(f.fileno()).st_size <= WHOLE_BYTES:
            data = f.readall()
            if data:
                yield 0, data
            return
        while True:
            chunk = f.read(BLOCK_BYTES)
            if not chunk:
                break
            data = rest + chunk if rest else chunk
            cut = data.rfind(b"\n") + 1
            if not cut:
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield offset, block
            offset += len(block)
    if rest:
        yield offset, rest


def jsonl_block_items(
    display: str, number: int, offset: int, block: bytes
) -> Iterator[Item | None]:
    """The items of one block, line by line; a ``None`` means "stop reading the file"
    (invalid UTF-8)."""
    lines = block.split(b"\n")
    if not lines[-1]:  # the block ended with a newline
        lines.pop()
    for raw in lines:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield Diagnostic(
                f"not valid UTF-8 (byte offset {offset + e.start})", Location(display, number)
            )
            yield None
            return
        offset += len(raw) + 1
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        try:  # the C scanner directly: most lines are one object
            value, end = scan_json(text, 0)
            if end != len(text) and not text[end:].isspace():
                raise ValueError
        except (StopIteration, ValueError, RecursionError):
            if not text.strip():
                number += 1
                continue
            try:
                value = json.loads(text)
            except (ValueError, RecursionError) as e:  # RecursionError: hostile nesting
                msg = getattr(e, "msg", "nested too deeply")
                col = getattr(e, "colno", None)
                yield Diagnostic(f"invalid JSON: {msg}", Location(display, number, col))
                number += 1
                continue
        yield Row(display, number, None, None, value)
        number += 1


def read_jsonl(path: str, display: str) -> Iterator[Item]:
    """One JSON object per line; blank lines are skipped. Locations are line numbers."""
    number = 1
    try:
        for offset, block in jsonl_blocks(path):
            for item in jsonl_block_items(display, number, offset, block):
                if item is None:
                    return
                yield item
            number += block.count(b"\n")
    except OSError as e:
        yield cannot_read(display, e)


# --- JSON -------------------------------------------------------------------------------------


def _skip_ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


class _Positions:
    """Offsets in ``text`` as locations, for offsets asked in increasing order."""

    def __init__(self, text: str, display: str) -> None:
        self.text, self.display = text, display
        self.line, self.line_start, self.scanned = 1, 0, 0

    def at(self, pos: int) -> Location:
        newlines = self.text.count("\n", self.scanned, pos)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rindex("\n", self.scanned, pos) + 1
        self.scanned = pos
        return Location(self.display, self.line, pos - self.line_start + 1)


def read_json(path: str, display: str) -> Iterator[Item]:
    """A top-level JSON array of objects, parsed whole; each row located by line and column.

    Parsing whole means holding the file, so its size is capped: the request it becomes may
    carry 4 MiB at most, and no valid ``.json`` dataset comes near the cap."""
    text = _json_text(path, display)
    if isinstance(text, Diagnostic):
        yield text
        return
    positions = _Positions(text, display)
    where = positions.at
    i = _skip_ws(text, 0)
    if not text.startswith("[", i):
        yield Diagnostic(
            "a .json dataset must be a JSON array of objects (use .jsonl for one object per line)",
            where(i),
        )
        return
    i = _skip_ws(text, i + 1)
    if text.startswith("]", i):
        end: int | None = i + 1
    else:
        end = yield from _json_elements(text, i, positions)
    if end is None:
        return
    end = _skip_ws(text, end)
    if end < len(text):
        yield Diagnostic("invalid JSON: extra data after the array", where(end))


def _json_text(path: str, display: str) -> str | Diagnostic:
    """The whole text of a ``.json`` file, or why it cannot be had."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_JSON_FILE_BYTES + 1)
        if len(data) > MAX_JSON_FILE_BYTES:
            return Diagnostic(
                f"a .json dataset is read whole and may be at most {MAX_JSON_FILE_BYTES:,} bytes;"
                " use .jsonl, which is streamed",
                Location(display),
            )
        return decode_utf8(data, display)
    except DatasetError as e:
        return e.diagnostic
    except OSError as e:
        return cannot_read(display, e)


def _json_elements(text: str, i: int, positions: _Positions) -> Generator[Item, None, int | None]:
    """The elements of a non-empty array from ``i`` (just after ``[``) as rows; returns the
    offset after the closing ``]``, or None after a diagnostic that ends the file."""
    display, where = positions.display, positions.at
    while True:
        try:
            value, end = _DECODER.raw_decode(text, i)
        except json.JSONDecodeError as e:
            yield Diagnostic(f"invalid JSON: {e.msg}", Location(display, e.lineno, e.colno))
            return None
        except RecursionError:  # hostile nesting
            yield Diagnostic("invalid JSON: nested too deeply", where(i))
            return None
        at = where(i)
        yield Row(display, at.line, at.col, None, value)
        i = _skip_ws(text, end)
        if text.startswith(",", i):
            i = _skip_ws(text, i + 1)
        elif text.startswith("]", i):
            return i + 1
        else:
            yield Diagnostic("invalid JSON: expected ',' or ']'", where(i))
            return None


# --- CSV --------------------------------------------------------------------------------------


def read_csv(path: str, display: str, input_field: str, output_field: str) -> Iterator[Item]:
    """A header row, then one example per row; BOM, CRLF and quoted newlines are handled.

    Rows are located by the line they start on; blank lines are skipped.
    """
    lines = _lines(path, display)
    reader = csv.reader((text for _, text in lines), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            yield Diagnostic(
                "empty CSV file; a header row naming the columns is required",
                Location(display, 1),
            )
            return
        columns = _csv_columns(header, display, input_field, output_field)
        if isinstance(columns, Diagnostic):
            yield columns
            return
        i_in, i_out = columns
        width = len(header)
        previous = reader.line_num
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record:
                continue
            if len(record) != width:
                yield Diagnostic(
                    f"row has {len(record)} fields; the header has {width}",
                    Location(display, start),
                )
                continue
            value = {input_field: record[i_in], output_field: record[i_out]}
            yield Row(display, start, None, None, value)
    except csv.Error as e:
        yield Diagnostic(f"invalid CSV: {e}", Location(display, reader.line_num or 1))
    except DatasetError as e:
        yield e.diagnostic
    except OSError as e:
        yield cannot_read(display, e)


def _csv_columns(
    header: list[str], display: str, input_field: str, output_field: str
) -> tuple[int, int] | Diagnostic:
    """The indexes of the input and output columns, or why the header does not name them."""
    columns: list[int] = []
    for name, setting in ((input_field, "inputField"), (output_field, "outputField")):
        found = [i for i, column in enumerate(header) if column == name]
        if len(found) != 1:
            listed = ", ".join(repr(c) for c in header)
            problem = "no column" if not found else "more than one column"
            return Diagnostic(
                f"{problem} named {name!r} in the header row (columns: {listed}); "
                f"name the column with spec.dataset.{setting}",
                Location(display, 1),
            )
        columns.append(found[0])
    return columns[0], columns[1]


# --- sources ----------------------------------------------------------------------------------


def read_file(path: str, display: str, input_field: str, output_field: str) -> Iterator[Item]:
    """Dispatch on the suffix of the name the user wrote (see `SUFFIXES`)."""
    suffix = display[display.rfind(".") :].lower() if "." in display else ""
    kind = SUFFIXES.get(suffix)
    if kind == "jsonl":
        return read_jsonl(path, display)
    if kind == "json":
        return read_json(path, display)
    if kind == "csv":
        return read_csv(path, display, input_field, output_field)
    accepted = ", ".join(SUFFIXES)
    return iter(
        [Diagnostic(f"unsupported dataset file type; use one of {accepted}", Location(display))]
    )


def file_source(
    path: str,
    display: str,
    *,
    input_field: str = "text_input",
    output_field: str = "output",
    preamble: str = "",
) -> Source:
    """A `Source` over a data file (``path`` is opened; ``display`` is shown in messages)."""

    def rows() -> Iterator[Item]:
        return read_file(path, display, input_field, output_field)

    return Source(rows, display, input_field, output_field, preamble, path=path)


def inline_source(
    rows: Callable[[], Iterable[Item]], display: str, *, preamble: str = ""
) -> Source:
    """A `Source` over inline examples (``text_input``/``output`` mappings)."""
    return Source(rows, display, preamble=preamble, inline=True)
