"""Training data: reading sources, the preamble rule, limits and the fingerprint.

Every source is read as a stream of *items*: a `Row` (one raw example and where it was
written) or a `Diagnostic` (a problem the reader found, e.g. a JSONL line that is not JSON).
`scan` checks the rows against the seed's limits and hashes them as it goes; `stream`
re-reads the same source at create time and yields `Example` values. Nothing here holds a
whole dataset in memory, except a ``.json`` array, which is parsed whole.

The preamble rule: ``text_input`` sent for training is ``preamble + input``, exactly, with no
separator added. The same preamble must be sent in front of every prompt at inference.

The fingerprint: sha256 over UTF-8 JSON lines, each ending in ``\\n``::

    {"baseModel":...,"format":"gitops-tune/fingerprint/v1","hyperparameters":{...}}
    {"textInput":"<preamble + input>","output":"<output>"}      (one line per example, in order)

The first line uses sorted keys and compact separators; hyperparameters carry their defaults
and integers/floats in canonical form (``1e-3`` and ``0.001`` are the same number). Example
lines are exactly what the REST request carries, so their total is also the request size the
4 MB limit applies to (`MAX_DATASET_BYTES`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring as _json_string
from typing import NamedTuple

from gitops_tune.errors import Diagnostic, Location, UserError

INPUT_LIMIT = 40_000  # characters per example input, after the preamble
OUTPUT_LIMIT = 5_000  # characters per example output
MIN_EXAMPLES = 20
RECOMMENDED_EXAMPLES = 100
MAX_DATASET_BYTES = 4 * 1024 * 1024  # the serialized `examples` array of the REST request
MAX_JSON_FILE_BYTES = 64 * 1024 * 1024  # a .json array is parsed whole: bound what is held
MAX_ROW_ERRORS = 100  # per dataset; the rest are counted, not listed

FINGERPRINT_FORMAT = "gitops-tune/fingerprint/v1"
DEFAULT_HYPERPARAMETERS: Mapping[str, object] = {
    "epochCount": 5,
    "batchSize": 4,
    "learningRate": 0.001,
}
_FLOAT_HYPERPARAMETERS = frozenset({"learningRate", "learningRateMultiplier"})
_INT_HYPERPARAMETERS = frozenset({"epochCount", "batchSize"})

#: File suffixes a dataset ``path`` may have, and the reader each selects.
SUFFIXES: Mapping[str, str] = {".jsonl": "jsonl", ".json": "json", ".csv": "csv"}

#: Recommended dataset sizes by task, from the seed's table: (amount, task as said in prose).
RECOMMENDATIONS: Mapping[str, tuple[str, str]] = {
    "classification": ("100+", "classification"),
    "summarization": ("100-500", "summarization"),
    "document-search": ("100+", "document search"),
    "other": ("100-500", ""),
}

_MULTI_TURN_KEYS = frozenset({"messages", "contents", "conversation", "turns"})


class Example(NamedTuple):
    """One single-turn training pair, the preamble already prepended to ``text_input``."""

    text_input: str
    output: str


class Row(NamedTuple):
    """One raw example as read from its source, before any checks."""

    file: str
    line: int | None
    col: int | None
    field: str | None  # the manifest field path of an inline example; None in a data file
    value: object

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.col)


Item = Row | Diagnostic
"""What a reader yields: rows, and diagnostics for what it could not read."""


@dataclass(frozen=True)
class Source:
    """Where a model's examples come from and how to turn rows into examples."""

    rows: Callable[[], Iterable[Item]]  # re-readable: each call reads the source again
    display: str  # for messages: the data file, or the manifest for inline examples
    input_field: str = "text_input"
    output_field: str = "output"
    preamble: str = ""
    inline: bool = False  # inline examples: unknown keys are errors
    path: str | None = None  # the data file to open, for a file source

    @property
    def kind(self) -> str | None:
        """The reader a file source uses (see `SUFFIXES`), from the name the user wrote."""
        if self.path is None or "." not in self.display:
            return None
        return SUFFIXES.get(self.display[self.display.rfind(".") :].lower())


@dataclass(frozen=True)
class Scan:
    """What one pass over a dataset found."""

    count: int  # examples read, valid or not
    size: int  # bytes of the serialized REST `examples` array (valid examples)
    fingerprint: str
    errors: tuple[Diagnostic, ...]


class DatasetError(Exception):
    """A reader cannot go on (e.g. invalid UTF-8); carries the one diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


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


def _cannot_read(display: str, e: OSError) -> Diagnostic:
    return Diagnostic(f"cannot read: {e.strerror or e}", Location(display))


# --- readers ----------------------------------------------------------------------------------


_scan_json: Callable[[str, int], tuple[object, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


BLOCK_BYTES = 1 << 20  # JSONL is read in blocks of whole lines of about this size


def jsonl_blocks(path: str) -> Iterator[tuple[int, int, bytes]]:
    """``(first line number, byte offset, block)``: the file in blocks that end at a newline
    (the last may not). Splitting at ``\\n`` bytes is exactly how binary line iteration splits,
    and UTF-8 never puts a ``\\n`` byte inside a character."""
    number, offset, rest = 1, 0, b""
    with open(path, "rb") as f:
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
            yield number, offset, block
            number += block.count(b"\n")
            offset += len(block)
    if rest:
        yield number, offset, rest


def _jsonl_lines(display: str, number: int, offset: int, block: bytes) -> Iterator[Item | None]:
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
            value, end = _scan_json(text, 0)
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
    try:
        for number, offset, block in jsonl_blocks(path):
            for item in _jsonl_lines(display, number, offset, block):
                if item is None:
                    return
                yield item
    except OSError as e:
        yield _cannot_read(display, e)


_WS = re.compile(r"[ \t\n\r]*")


def _skip_ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def read_json(path: str, display: str) -> Iterator[Item]:
    """A top-level JSON array of objects, parsed whole; each row located by line and column.

    Parsing whole means holding the file, so its size is capped: the request it becomes may
    carry 4 MiB at most, and no valid ``.json`` dataset comes near the cap."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_JSON_FILE_BYTES + 1)
        if len(data) > MAX_JSON_FILE_BYTES:
            yield Diagnostic(
                f"a .json dataset is read whole and may be at most {MAX_JSON_FILE_BYTES:,} bytes;"
                " use .jsonl, which is streamed",
                Location(display),
            )
            return
        text = decode_utf8(data, display)
    except DatasetError as e:
        yield e.diagnostic
        return
    except OSError as e:
        yield _cannot_read(display, e)
        return
    decoder = json.JSONDecoder()
    line, line_start, scanned = 1, 0, 0

    def where(pos: int) -> Location:
        nonlocal line, line_start, scanned
        newlines = text.count("\n", scanned, pos)
        if newlines:
            line += newlines
            line_start = text.rindex("\n", scanned, pos) + 1
        scanned = pos
        return Location(display, line, pos - line_start + 1)

    i = _skip_ws(text, 0)
    if not text.startswith("[", i):
        yield Diagnostic(
            "a .json dataset must be a JSON array of objects (use .jsonl for one object per line)",
            where(i),
        )
        return
    i = _skip_ws(text, i + 1)
    if text.startswith("]", i):
        i += 1
    else:
        while True:
            try:
                value, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError as e:
                yield Diagnostic(f"invalid JSON: {e.msg}", Location(display, e.lineno, e.colno))
                return
            except RecursionError:  # hostile nesting
                yield Diagnostic("invalid JSON: nested too deeply", where(i))
                return
            at = where(i)
            yield Row(display, at.line, at.col, None, value)
            i = _skip_ws(text, end)
            if text.startswith(",", i):
                i = _skip_ws(text, i + 1)
            elif text.startswith("]", i):
                i += 1
                break
            else:
                yield Diagnostic("invalid JSON: expected ',' or ']'", where(i))
                return
    i = _skip_ws(text, i)
    if i < len(text):
        yield Diagnostic("invalid JSON: extra data after the array", where(i))


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
        columns: list[int] = []
        for name, setting in ((input_field, "inputField"), (output_field, "outputField")):
            found = [i for i, column in enumerate(header) if column == name]
            if len(found) != 1:
                listed = ", ".join(repr(c) for c in header)
                problem = "no column" if not found else "more than one column"
                yield Diagnostic(
                    f"{problem} named {name!r} in the header row (columns: {listed}); "
                    f"name the column with spec.dataset.{setting}",
                    Location(display, 1),
                )
                return
            columns.append(found[0])
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
        yield _cannot_read(display, e)


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


# --- fingerprint --------------------------------------------------------------------------------


def canonical_hyperparameters(hyperparameters: Mapping[str, object]) -> dict[str, object]:
    """Defaults filled in; learning rates as floats, counts as ints; sorted keys."""
    merged: dict[str, object] = dict(hyperparameters)
    for key, value in DEFAULT_HYPERPARAMETERS.items():
        if key == "learningRate" and "learningRateMultiplier" in merged:
            continue
        merged.setdefault(key, value)
    out: dict[str, object] = {}
    for key in sorted(merged):
        value = merged[key]
        if key in _FLOAT_HYPERPARAMETERS and isinstance(value, (int, float)):
            value = float(value)
        elif key in _INT_HYPERPARAMETERS and isinstance(value, float) and value.is_integer():
            value = int(value)
        out[key] = value
    return out


class Fingerprinter:
    """Incremental fingerprint and request size of a dataset (see the module docstring)."""

    __slots__ = ("_hash", "count", "size")

    def __init__(self, base_model: str, hyperparameters: Mapping[str, object]) -> None:
        header = {
            "format": FINGERPRINT_FORMAT,
            "baseModel": base_model,
            "hyperparameters": canonical_hyperparameters(hyperparameters),
        }
        text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self._hash = hashlib.sha256(text.encode() + b"\n")
        self.count = 0
        self.size = 2  # the array's brackets

    def add(self, text_input: str, output: str) -> None:
        """Add one example (preamble already applied). Raises UnicodeEncodeError on lone
        surrogates, which no API accepts."""
        line = (
            '{"textInput":' + _json_string(text_input) + ',"output":' + _json_string(output) + "}\n"
        ).encode()
        self._hash.update(line)
        # in the request array the newline is a comma, except after the first example
        self.size += len(line) if self.count else len(line) - 1
        self.count += 1

    def add_lines(self, lines: bytes, count: int) -> None:
        """Add ``count`` examples given as their fingerprint lines joined by ``\\n`` (no
        final newline), each exactly as `add` would make it; the same result as `add` on each."""
        if not count:
            return
        self._hash.update(lines)
        self._hash.update(b"\n")
        # the request array has a comma where these have a newline, plus one before them
        self.size += len(lines) + (1 if self.count else 0)
        self.count += count

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def fingerprint(
    base_model: str, hyperparameters: Mapping[str, object], examples: Iterable[Example]
) -> str:
    """The fingerprint of examples whose preamble is already applied."""
    fp = Fingerprinter(base_model, hyperparameters)
    for example in examples:
        fp.add(example.text_input, example.output)
    return fp.hexdigest()


def short_fingerprint(fp: str) -> str:
    """The first 12 hex digits, for display."""
    return fp[:12]


# --- checks -------------------------------------------------------------------------------------


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` most likely meant (same letters ignoring case, ``_`` and ``-``,
    else the closest by `difflib`), for "did you mean" hints."""
    import difflib

    def norm(s: str) -> str:
        return s.replace("_", "").replace("-", "").lower()

    options = list(candidates)
    for c in options:
        if norm(c) == norm(word):
            return c
    lowered = {c.lower(): c for c in options}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _row_problems(value: object, source: Source) -> list[str]:
    """Why a row is not a valid single-turn example (slow path; called only on failure)."""
    fin, fout = source.input_field, source.output_field
    if not isinstance(value, dict):
        what = "mapping" if source.inline else "JSON object"
        return [f"an example must be a {what} with {fin!r} and {fout!r} (got {_kind(value)})"]
    problems: list[str] = []
    multi = _MULTI_TURN_KEYS.intersection(value) or any(
        isinstance(value.get(f), (list, dict)) for f in (fin, fout)
    )
    if multi:
        return [
            "multi-turn conversations are not supported; each example is one "
            f"{fin!r}/{fout!r} pair of strings"
        ]
    unknown = [k for k in value if k not in (fin, fout)]
    if source.inline:
        for key in unknown:
            hint = suggest(str(key), (fin, fout))
            problems.append(
                f"unknown field {key!r}; did you mean {hint!r}?"
                if hint
                else f"unknown field {key!r} (an example has {fin!r} and {fout!r})"
            )
    for name, setting in ((fin, "inputField"), (fout, "outputField")):
        if name not in value:
            msg = f"missing {name!r}"
            if not source.inline and unknown:
                found = ", ".join(repr(str(k)) for k in unknown)
                msg += f" (found {found}; spec.dataset.{setting} names the field to read)"
            problems.append(msg)
            continue
        v = value[name]
        if not isinstance(v, str):
            hint = "; quote it" if source.inline and isinstance(v, (int, float, bool)) else ""
            shown = f" {json.dumps(v)}" if isinstance(v, (int, float, bool)) else ""
            problems.append(f"{name} must be a string (got {_kind(v)}{shown}){hint}")
        elif not v.strip():
            problems.append(f"{name} is empty")
    return problems


def _length_problems(text: str, output: str, source: Source) -> list[str]:
    problems = []
    if len(text) > INPUT_LIMIT:
        with_preamble = " with the preamble" if source.preamble else ""
        problems.append(
            f"{source.input_field} is {len(text):,} characters{with_preamble}; "
            f"the limit is {INPUT_LIMIT:,}"
        )
    if len(output) > OUTPUT_LIMIT:
        problems.append(
            f"{source.output_field} is {len(output):,} characters; the limit is {OUTPUT_LIMIT:,}"
        )
    return problems


def _examples(
    source: Source,
    fp: Fingerprinter,
    report: Callable[[Diagnostic], None],
    rows: list[int],
    items: Iterable[Item] | None = None,
) -> Iterator[tuple[str, str]]:
    """Rows -> valid (input, output) pairs; problems go to ``report``, ``rows[0]`` counts the
    rows read. The hot loop of every dataset: plain Python, no per-row objects on the way."""
    fin, fout, preamble, inline = (
        source.input_field,
        source.output_field,
        source.preamble,
        source.inline,
    )
    add = fp.add
    count = 0
    try:
        for item in source.rows() if items is None else items:
            if type(item) is not Row:
                report(item)  # type: ignore[arg-type]
                continue
            count += 1
            value = item.value
            if (
                type(value) is dict
                and type(inp := value.get(fin)) is str
                and type(out := value.get(fout)) is str
                and inp
                and out
                and not inp.isspace()
                and not out.isspace()
                and not (inline and len(value) != 2)
            ):
                text = preamble + inp if preamble else inp
                if len(text) > INPUT_LIMIT or len(out) > OUTPUT_LIMIT:
                    for message in _length_problems(text, out, source):
                        report(Diagnostic(message, item.location, item.field))
                    continue
                try:
                    add(text, out)
                except UnicodeEncodeError:
                    report(
                        Diagnostic(
                            "contains an unpaired surrogate; not valid Unicode",
                            item.location,
                            item.field,
                        )
                    )
                    continue
                yield text, out
            else:
                for message in _row_problems(value, source):
                    report(Diagnostic(message, item.location, item.field))
    finally:
        rows[0] = count


def _fast_block(
    block: bytes, first: bool, fin: str, fout: str, preamble: str
) -> tuple[bytes, int] | None:
    """A JSONL block whose every line is a valid example -> (its fingerprint lines joined by
    newlines, count), with no per-row objects. Anything else -> None: the caller reads that
    block line by line, with the diagnostics.

    A line with no backslash holds strings with no quote, backslash or control character
    (JSON would have to escape them, and the scanner is strict), so their JSON form is the
    text between two quotes: no escaping work for the common line."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if first and text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()
    out: list[str] = []
    append, scan_json, quote = out.append, _scan_json, _json_string
    pre = quote(preamble)[1:-1]
    for line in lines:
        try:
            value, end = scan_json(line, 0)
        except (StopIteration, ValueError, RecursionError):
            if line.strip():
                return None
            continue  # a blank line
        if end != len(line) and not line[end:].isspace():
            return None
        if type(value) is not dict:
            return None
        inp, output = value.get(fin), value.get(fout)
        if (
            type(inp) is not str
            or type(output) is not str
            or not inp
            or not output
            or inp.isspace()
            or output.isspace()
            or len(inp) + len(preamble) > INPUT_LIMIT
            or len(output) > OUTPUT_LIMIT
        ):
            return None
        if "\\" in line:
            append(f'{{"textInput":{quote(preamble + inp)},"output":{quote(output)}}}')
        else:
            append(f'{{"textInput":"{pre}{inp}","output":"{output}"}}')
    try:
        return "\n".join(out).encode(), len(out)
    except UnicodeEncodeError:  # a lone surrogate: let the careful path say where
        return None


def _scan_jsonl(
    source: Source, path: str, fp: Fingerprinter, report: Callable[[Diagnostic], None]
) -> int:
    """`scan` of a JSONL file, a block at a time: the fast path for blocks of valid examples,
    the reader's own line-by-line path (same items as `read_jsonl`) for any other block.
    Returns the rows read."""
    count = 0
    fin, fout, preamble, display = (
        source.input_field,
        source.output_field,
        source.preamble,
        source.display,
    )
    try:
        for number, offset, block in jsonl_blocks(path):
            fast = _fast_block(block, number == 1, fin, fout, preamble)
            if fast is not None:
                fp.add_lines(*fast)
                count += fast[1]
                continue
            items = list(_jsonl_lines(display, number, offset, block))
            stop = bool(items) and items[-1] is None
            rows = [0]
            valid = [i for i in items if i is not None]
            for _ in _examples(source, fp, report, rows, valid):
                pass
            count += rows[0]
            if stop:
                break
    except OSError as e:
        report(_cannot_read(display, e))
    return count


def scan(source: Source, base_model: str, hyperparameters: Mapping[str, object]) -> Scan:
    """Read the source once: check every row, count, size and fingerprint.

    Row problems beyond `MAX_ROW_ERRORS` are counted in one last diagnostic. A data file
    that has not changed since an earlier scan without errors is not read again: the result
    comes from the fingerprint cache (`gitops_tune.dataset_cache`).
    """
    if source.path is not None:
        from gitops_tune.dataset_cache import cached_scan

        return cached_scan(source, source.path, base_model, hyperparameters, _scan)
    return _scan(source, base_model, hyperparameters)


def _scan(source: Source, base_model: str, hyperparameters: Mapping[str, object]) -> Scan:
    fp = Fingerprinter(base_model, hyperparameters)
    errors: list[Diagnostic] = []
    dropped = 0

    def report(diagnostic: Diagnostic) -> None:
        nonlocal dropped
        if len(errors) < MAX_ROW_ERRORS:
            errors.append(diagnostic)
        else:
            dropped += 1

    rows = [0]
    if source.path is not None and source.kind == "jsonl":
        rows[0] = _scan_jsonl(source, source.path, fp, report)
    else:
        for _ in _examples(source, fp, report, rows):
            pass
    if dropped:
        errors.append(
            Diagnostic(
                f"... and {dropped:,} more problems in this dataset", Location(source.display)
            )
        )
    return Scan(rows[0], fp.size, fp.hexdigest(), tuple(errors))


def limits(
    result: Scan, task: str | None, location: Location, field: str = "spec.dataset"
) -> list[Diagnostic]:
    """Dataset-level rules: at least `MIN_EXAMPLES` (error), fewer than `RECOMMENDED_EXAMPLES`
    (warning, task-specific), at most `MAX_DATASET_BYTES` (error)."""
    out: list[Diagnostic] = []
    n = result.count
    plural = "example" if n == 1 else "examples"
    if n < MIN_EXAMPLES:
        out.append(
            Diagnostic(f"{n} {plural}; at least {MIN_EXAMPLES} are required", location, field)
        )
    elif n < RECOMMENDED_EXAMPLES:
        amount, label = RECOMMENDATIONS.get(task or "other", RECOMMENDATIONS["other"])
        purpose = f" for {label}" if label else ""
        out.append(
            Diagnostic(
                f"{n} {plural}; {amount} are recommended{purpose}",
                location,
                field,
                severity="warning",
            )
        )
    if result.size > MAX_DATASET_BYTES:
        out.append(
            Diagnostic(
                f"the examples serialize to {result.size:,} bytes; the limit is "
                f"{MAX_DATASET_BYTES:,} bytes (4 MiB)",
                location,
                field,
            )
        )
    return out


def stream(
    source: Source,
    base_model: str,
    hyperparameters: Mapping[str, object],
    expected_fingerprint: str | None = None,
) -> Iterator[Example]:
    """Re-read the source and yield its examples (preamble applied).

    Any problem raises `UserError`. With ``expected_fingerprint``, a source that changed since
    it was scanned raises `UserError` after its last example, before the caller can use them.
    """
    fp = Fingerprinter(base_model, hyperparameters)

    def report(diagnostic: Diagnostic) -> None:
        raise UserError(diagnostic)

    for text, out in _examples(source, fp, report, [0]):
        yield Example(text, out)
    if expected_fingerprint is not None and fp.hexdigest() != expected_fingerprint:
        raise UserError(
            Diagnostic(
                f"changed since it was validated (fingerprint {short_fingerprint(fp.hexdigest())}, "
                f"expected {short_fingerprint(expected_fingerprint)}); run the command again",
                Location(source.display),
            )
        )
