"""One pass over a source: `scan` checks every row, counts, sizes and fingerprints it;
`stream` re-reads the same source at create time and yields `Example` values.

Both run rows through `_examples`, the hot loop of every dataset. A JSONL file is scanned a
block at a time: a block whose every line is a valid example takes a fast path (first
`layout.pairs_block`, bytes operations on a file already almost canonical; then
`fastpath.pairs_block`, msgspec; then `_fast_block`, no per-row objects), any other block the
reader's own line-by-line path, so the result is exactly what reading row by row gives.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from json.encoder import encode_basestring as json_string
from typing import TYPE_CHECKING

from gitops_tune.dataset import chat, fastpath, layout, readers
from gitops_tune.dataset.chat import Conversation, Media
from gitops_tune.dataset.checks import (
    INPUT_LIMIT,
    MAX_ROW_ERRORS,
    OUTPUT_LIMIT,
    length_problems,
    row_problems,
)
from gitops_tune.dataset.fastpath import Lines
from gitops_tune.dataset.fingerprints import Fingerprinter, short_fingerprint
from gitops_tune.dataset.records import Example, Item, Record, Row, Scan, Source
from gitops_tune.errors import Diagnostic, Location, UserError

if TYPE_CHECKING:
    from gitops_tune.dataset.cache import ScanCache
    from gitops_tune.dataset.digests import content_hash as Hash

Report = Callable[[Diagnostic], None]


class Tally:
    """What `_examples` counts besides the fingerprint: rows read, and the chat rows'
    media, resolution and longest examples."""

    KEEP_LONGEST = 3

    def __init__(self) -> None:
        self.rows = 0
        self._resolutions: tuple[str, ...] | None = None
        self.chats = 0
        self.chat_at: Location | None = None
        self.media: list[tuple[Media, Location, str | None]] = []
        self.longest: list[tuple[int, Location, str | None]] = []
        self.resolution: tuple[str, Location] | None = None

    def chat(self, item: Row, report: Report) -> Conversation | None:
        """A chat row -> its conversation, or None after reporting its one problem."""
        try:
            found = chat.parse(item.value, self.resolutions)
            if found.resolution is not None:
                self._same_resolution(found.resolution, item)
        except chat.ChatError as e:
            where = f"{item.field}.{e.field}" if item.field and e.field else item.field or e.field
            report(Diagnostic(e.message, item.location, where or None))
            return None
        self.chats += 1
        if self.chat_at is None:
            self.chat_at = item.location
        self.media += [(m, item.location, item.field) for m in found.media]
        self.longest.append((found.chars, item.location, item.field))
        if len(self.longest) > 4 * self.KEEP_LONGEST:
            self.longest = heapq.nlargest(self.KEEP_LONGEST, self.longest, key=lambda x: x[0])
        return found

    @property
    def resolutions(self) -> tuple[str, ...]:
        """The mediaResolution values a chat row may name, read when the first one comes
        (the table's YAML costs a scan worker's start-up time otherwise)."""
        if self._resolutions is None:
            from gitops_tune.dataset.tuning_limits import media_resolutions

            self._resolutions = media_resolutions()
        return self._resolutions

    def _same_resolution(self, value: str, item: Row) -> None:
        if self.resolution is None:
            self.resolution = (value, item.location)
        elif self.resolution[0] != value:
            first, at = self.resolution
            raise chat.ChatError(
                f"{value} differs from {first} at {at}; every example of a dataset must use "
                'the same mediaResolution (Google\'s "Video tuning" page)',
                "mediaResolution",
            )

    def scan(self, count: int, fp: Fingerprinter, errors: tuple[Diagnostic, ...]) -> Scan:
        if not self.chats:
            return Scan(count, fp.size, fp.hexdigest(), errors)
        longest = heapq.nlargest(self.KEEP_LONGEST, self.longest, key=lambda x: x[0])
        return Scan(
            count,
            fp.size,
            fp.hexdigest(),
            errors,
            self.chats,
            self.chat_at,
            tuple(self.media),
            tuple(longest),
        )


def _examples(
    source: Source,
    fp: Fingerprinter,
    report: Report,
    tally: Tally,
    items: Iterable[Item] | None = None,
) -> Iterator[tuple[str, str] | Conversation]:
    """Rows -> valid (input, output) pairs or conversations; problems go to ``report``,
    ``tally.rows`` counts the rows read. The hot loop of every dataset: plain Python, no
    per-row objects on the way for pairs."""
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
                    for message in length_problems(text, out, source):
                        report(Diagnostic(message, item.location, item.field))
                    continue
                try:
                    add(text, out)
                except UnicodeEncodeError:
                    report(_surrogate(item))
                    continue
                yield text, out
            elif chat.is_chat(value):
                found = _conversation(item, fp, report, tally)
                if found is not None:
                    yield found
            else:
                for message in row_problems(value, source):
                    report(Diagnostic(message, item.location, item.field))
    finally:
        tally.rows = count


def _conversation(
    item: Row, fp: Fingerprinter, report: Report, tally: Tally
) -> Conversation | None:
    """A chat row, checked and fingerprinted; None after reporting its one problem."""
    found = tally.chat(item, report)
    if found is None:
        return None
    try:
        fp.add_line(found.line)
    except UnicodeEncodeError:
        report(_surrogate(item))
        return None
    return found


def _surrogate(item: Row) -> Diagnostic:
    return Diagnostic(
        "contains an unpaired surrogate; not valid Unicode", item.location, item.field
    )


def _block_lines(block: bytes, first: bool) -> list[str] | None:
    """The lines of a JSONL block (BOM of the file dropped), None if it is not UTF-8."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if first and text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()
    return lines


def _fast_block(block: bytes, first: bool, fin: str, fout: str, preamble: str) -> Lines | None:
    """A JSONL block whose every line is a valid example -> (its fingerprint lines joined by
    newlines, count), with no per-row objects. Anything else -> None: the caller reads that
    block line by line, with the diagnostics.

    A line with no backslash holds strings with no quote, backslash or control character
    (JSON would have to escape them, and the scanner is strict), so their JSON form is the
    text between two quotes: no escaping work for the common line."""
    lines = _block_lines(block, first)
    if lines is None:
        return None
    out: list[str] = []
    append, scan_json, quote = out.append, readers.scan_json, json_string
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
        return ("\n".join(out).encode(),), len(out)
    except UnicodeEncodeError:  # a lone surrogate: let the careful path say where
        return None


#: The fast paths a JSONL block tries in turn before the exact line-by-line path (the tests
#: empty it to compare).
FAST_PATHS: tuple[Callable[[bytes, bool, str, str, str], Lines | None], ...] = (
    layout.pairs_block,
    fastpath.pairs_block,
    _fast_block,
)


def _fast(
    block: bytes, first: bool, fin: str, fout: str, preamble: str
) -> tuple[Lines, int] | None:
    """The first fast path's lines for ``block``, and the newlines the block holds (the
    layout and msgspec paths take a line per example, no blank line: no need to count)."""
    for path in FAST_PATHS:
        found = path(block, first, fin, fout, preamble)
        if found is not None:
            return found, found[1] if path is not _fast_block else block.count(b"\n")
    return None


def _scan_jsonl(
    source: Source, path: str, fp: Fingerprinter, report: Report, tally: Tally, raw: Hash | None
) -> int:
    """`scan` of a JSONL file, a block at a time: the fast path for blocks of valid examples,
    the reader's own line-by-line path (same items as `read_jsonl`) for any other block.
    Returns the rows read; ``raw`` (if any) hashes the file's bytes as they are read."""
    count = 0
    fin, fout, preamble, display = (
        source.input_field,
        source.output_field,
        source.preamble,
        source.display,
    )
    number = 1  # the block's first line
    try:
        for offset, block in readers.jsonl_blocks(path):
            if raw is not None:
                raw.update(block)
            fast = _fast(block, not offset, fin, fout, preamble)
            if fast is not None:
                (lines, examples), newlines = fast
                fp.add_lines(lines, examples)
                count += examples
                number += newlines
                continue
            items = list(readers.jsonl_block_items(display, number, offset, block))
            number += block.count(b"\n")
            stop = bool(items) and items[-1] is None
            valid = [i for i in items if i is not None]
            for _ in _examples(source, fp, report, tally, valid):
                pass
            count += tally.rows
            if stop:
                break
    except OSError as e:
        report(readers.cannot_read(display, e))
    return count


def scan(
    source: Source,
    base_model: str,
    hyperparameters: Mapping[str, object],
    cache: ScanCache | None,
    raw: Hash | None = None,
) -> Scan:
    """Read the source once: check every row, count, size and fingerprint.

    Row problems beyond `MAX_ROW_ERRORS` are counted in one last diagnostic. A data file
    that has not changed since an earlier scan without errors is not read again: the result
    comes from ``cache`` (see `gitops_tune.dataset.cache`); ``cache=None`` always reads.
    Without the cache, ``raw`` hashes the bytes of a JSONL file as they are read (whole unless
    the scan reports an error).
    """
    if source.path is not None and cache is not None:
        # here: a scan worker, which never has a cache, starts without the cache's modules
        from gitops_tune.dataset.cache import cached_scan

        return cached_scan(cache, source, source.path, base_model, hyperparameters, _read)
    return _read(source, base_model, hyperparameters, raw)


def _read(
    source: Source, base_model: str, hyperparameters: Mapping[str, object], raw: Hash | None = None
) -> Scan:
    """`scan` without the cache: always reads the source."""
    fp = Fingerprinter(base_model, hyperparameters)
    errors: list[Diagnostic] = []
    dropped = 0

    def report(diagnostic: Diagnostic) -> None:
        nonlocal dropped
        if len(errors) < MAX_ROW_ERRORS:
            errors.append(diagnostic)
        else:
            dropped += 1

    tally = Tally()
    if source.path is not None and source.kind == "jsonl":
        count = _scan_jsonl(source, source.path, fp, report, tally, raw)
    else:
        for _ in _examples(source, fp, report, tally):
            pass
        count = tally.rows
    if dropped:
        errors.append(
            Diagnostic(
                f"... and {dropped:,} more problems in this dataset", Location(source.display)
            )
        )
    return tally.scan(count, fp, tuple(errors))


def stream(
    source: Source,
    base_model: str,
    hyperparameters: Mapping[str, object],
    expected_fingerprint: str | None = None,
) -> Iterator[Record]:
    """Re-read the source and yield its examples (preamble applied to pairs).

    Any problem raises `UserError`. With ``expected_fingerprint``, a source that changed since
    it was scanned raises `UserError` after its last example, before the caller can use them.
    """
    fp = Fingerprinter(base_model, hyperparameters)

    def report(diagnostic: Diagnostic) -> None:
        raise UserError(diagnostic)

    for found in _examples(source, fp, report, Tally()):
        yield found if type(found) is Conversation else Example(*found)
    if expected_fingerprint is not None and fp.hexdigest() != expected_fingerprint:
        raise UserError(
            Diagnostic(
                f"changed since it was validated (fingerprint {short_fingerprint(fp.hexdigest())}, "
                f"expected {short_fingerprint(expected_fingerprint)}); run the command again",
                Location(source.display),
            )
        )
