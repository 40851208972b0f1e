"""The values every part of `gitops_tune.dataset` shares: examples, rows, sources, scans.

They live apart from the code that makes them so that the readers, the checks, the scan and
the fingerprint cache can all name them without importing one another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from gitops_tune.dataset.chat import Conversation, Media, row_of
from gitops_tune.errors import Diagnostic, Location

#: File suffixes a dataset ``path`` may have, and the reader each selects.
SUFFIXES: Mapping[str, str] = {".jsonl": "jsonl", ".json": "json", ".csv": "csv"}


class Example(NamedTuple):
    """One single-turn training pair, the preamble already prepended to ``text_input``."""

    text_input: str
    output: str


#: ``{"contents":[{"role":"user","parts":[{"text":T}]},{"role":"model","parts":[{"text":O}]}]}``
#: minus ``{"textInput":T,"output":O}``: what a staged pair line adds to its fingerprint line.
PAIR_LINE_EXTRA = len(
    '{"contents":[{"role":"user","parts":[{"text":}]},{"role":"model","parts":[{"text":}]}]}'
) - len('{"textInput":,"output":}')


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


Record = Example | Conversation
"""What a dataset yields at send time: a pair (preamble applied) or a chat example."""


def token_texts(record: Record) -> tuple[str, ...]:
    """The text a record trains on, what its tokens are estimated from (about four characters
    a token): a pair's input (preamble applied) and
    output; a chat example's text parts, its system instruction's included. A chat example's
    ``fileData`` parts are not text and are not estimated (see docs/vertex.md, "Each base
    model's limits"); ``plan --count-tokens`` sends them (`token_example`)."""
    if isinstance(record, Example):
        return record.text_input, record.output
    return record.texts


class TokenExample(NamedTuple):
    """One example as ``plan --count-tokens`` sends it to ``countTokens``: its turns as
    Google's ``Content`` (camelCase JSON), with its text, ``fileData`` and ``videoMetadata``
    parts, and what batching needs to know (`gitops_tune.review.tokens`)."""

    contents: tuple[Mapping[str, Any], ...]
    chars: int  # characters of text
    parts: int
    media: int  # fileData parts
    recordings: int  # fileData parts that are audio or video
    resolution: str | None  # its mediaResolution, sent as the request's generationConfig


def token_example(record: Record) -> TokenExample:
    """A pair as a user turn and a model turn (empty texts are not sent: the API refuses an
    empty part); a chat example as its ``contents``, its ``systemInstruction``'s text parts
    leading its first user turn (a ``countTokens`` request has one ``systemInstruction``, a
    batch holds many examples, each trained with its own). A part's ``mediaResolution`` is
    sent as the request's ``generationConfig.mediaResolution``: every example uses the same
    one ("Video tuning"), and the ``CountTokensRequest`` we check against has it there."""
    if isinstance(record, Example):
        turns = (("user", record.text_input), ("model", record.output))
        contents = tuple({"role": r, "parts": [{"text": t}]} for r, t in turns if t)
        chars = len(record.text_input) + len(record.output)
        return TokenExample(contents, chars, len(contents), 0, 0, None)
    row = row_of(record.line)
    system = row.get("systemInstruction", {}).get("parts", [])
    turns_out: list[Mapping[str, Any]] = []
    for i, turn in enumerate(row["contents"]):
        kept = [{k: v for k, v in p.items() if k != "mediaResolution"} for p in turn["parts"]]
        turns_out.append({"role": turn["role"], "parts": [*(system if i == 0 else ()), *kept]})
    recordings = sum(m.mime_type.startswith(("audio/", "video/")) for m in record.media)
    parts = sum(len(t["parts"]) for t in turns_out)
    media = len(record.media)
    return TokenExample(tuple(turns_out), record.chars, parts, media, recordings, record.resolution)


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
    # The chat format (gitops_tune.dataset.chat): how many rows, where the first is, each
    # fileData part with its row, and the longest examples (text characters, where).
    chats: int = 0
    chat_at: Location | None = None
    media: tuple[tuple[Media, Location, str | None], ...] = ()
    longest: tuple[tuple[int, Location, str | None], ...] = ()

    @property
    def jsonl_bytes(self) -> int:
        """Bytes of the JSONL staged for Vertex AI: one line a valid example. A pair's line
        is `PAIR_LINE_EXTRA` bytes longer than its fingerprint line; a chat line is its
        fingerprint line."""
        if not self.count:
            return 0
        lines = self.size - 2 - (self.count - 1) + self.count  # newlines for the commas
        return lines + (self.count - self.chats) * PAIR_LINE_EXTRA


class DatasetError(Exception):
    """A reader cannot go on (e.g. invalid UTF-8); carries the one diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic
