"""The Gemini chat format: one example a row, as Google's "Prepare supervised fine-tuning data
for Gemini models" page documents it for Vertex AI (Gemini Enterprise Agent Platform)::

    {"systemInstruction": {"role": "system", "parts": [{"text": "..."}]},
     "contents": [{"role": "user", "parts": [{"text": "..."},
                                             {"fileData": {"mimeType": "image/png",
                                                           "fileUri": "gs://b/o.png"}}]},
                  {"role": "model", "parts": [{"text": "..."}]}],
     "generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_LOW"}}

A row is chat when it has ``contents`` (or ``systemInstruction``); everything else is a
pair. Field names are camelCase as Google documents them; snake_case is accepted, as proto3
JSON parsers do, and normalised. A part is ``text`` or ``fileData`` (google-genai's `Part`),
optionally with ``mediaResolution: {level}`` and ``videoMetadata``. Turns alternate
``user``/``model`` starting with ``user`` and end with ``model``; model turns carry text.

`parse` turns one row into a `Conversation` or raises `ChatError` with the first problem and
its field path: one diagnostic a row. The conversation's canonical JSON (sorted keys, compact,
camelCase) is both its fingerprint line and its line in the JSONL staged for Vertex AI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from gitops_tune.hints import suggest

CHARS_PER_TOKEN = 4  # Google's rule of thumb ("Understand and count tokens"), as review/cost.py
ROLES = ("user", "model")
_TOP = ("contents", "systemInstruction", "generationConfig")
_CONTENT = ("role", "parts")
_PART = ("text", "fileData", "mediaResolution", "videoMetadata")
_FILE_DATA = ("mimeType", "fileUri")
_GENERATION = ("mediaResolution",)
_PART_RESOLUTION = ("level",)
_VIDEO = ("startOffset", "endOffset", "fps")
_SNAKE = {
    "system_instruction": "systemInstruction",
    "generation_config": "generationConfig",
    "file_data": "fileData",
    "mime_type": "mimeType",
    "file_uri": "fileUri",
    "media_resolution": "mediaResolution",
    "video_metadata": "videoMetadata",
    "start_offset": "startOffset",
    "end_offset": "endOffset",
}


class Media(NamedTuple):
    """One ``fileData`` part: its object, its declared type, and where it is in the row."""

    uri: str
    mime_type: str
    field: str  # e.g. contents[0].parts[1].fileData


class Conversation(NamedTuple):
    """One chat example, checked and normalised."""

    line: str  # canonical JSON: the fingerprint line and the staged JSONL line
    chars: int  # text characters of every part and the system instruction
    media: tuple[Media, ...]
    resolution: str | None  # the mediaResolution it uses, if any
    prompt: str  # canonical JSON of everything before the last model turn
    output: str  # the last model turn's text
    texts: tuple[str, ...] = ()  # the text parts, system instruction first: what tokens count


class ChatError(Exception):
    """The first problem of a chat row: a message and its field path in the row."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message, self.field = message, field


def is_chat(value: object) -> bool:
    """Whether a row is in the chat format (see the module docstring)."""
    return type(value) is dict and any(
        k in value for k in ("contents", "systemInstruction", "system_instruction")
    )


def _object(value: object, allowed: tuple[str, ...], path: str) -> dict[str, Any]:
    """A JSON object with snake_case keys normalised; unknown or doubled keys refused."""
    if not isinstance(value, dict):
        raise ChatError(f"must be an object (got {type(value).__name__})", path)
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _SNAKE.get(str(key), str(key))
        where = f"{path}.{key}" if path else str(key)
        if name not in allowed:
            hint = suggest(str(key), allowed)
            more = f"; did you mean {hint!r}?" if hint else f" (allowed: {', '.join(allowed)})"
            raise ChatError(f"unknown field {key!r}{more}", where)
        if name in out:
            raise ChatError(f"{name!r} is given twice (camelCase and snake_case)", where)
        out[name] = item
    return out


def _text(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ChatError(f"must be a string (got {type(value).__name__})", path)
    if not value.strip():
        raise ChatError("is empty" if not value else "is only whitespace", path)
    return value


def _file_data(value: object, path: str) -> dict[str, Any]:
    data = _object(value, _FILE_DATA, path)
    for name in _FILE_DATA:
        if name not in data:
            raise ChatError(f"missing {name!r}", path)
    mime = _text(data["mimeType"], f"{path}.mimeType")
    uri = _text(data["fileUri"], f"{path}.fileUri")
    if not uri.startswith("gs://") or "/" not in uri[5:] or uri.endswith("/"):
        raise ChatError(
            f"{uri!r} is not a Cloud Storage object gs://BUCKET/OBJECT (media must be in "
            "Cloud Storage so that it can be checked before a job is created)",
            f"{path}.fileUri",
        )
    return {"mimeType": mime, "fileUri": uri}


def _resolution(value: object, path: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ChatError(f"{json.dumps(value)} is not one of {', '.join(allowed)}", path)
    return value


class _Parse:
    """State of one row's parse: characters, media and the resolution seen so far."""

    def __init__(self, resolutions: tuple[str, ...]) -> None:
        self.resolutions = resolutions
        self.chars = 0
        self.texts: list[str] = []
        self.media: list[Media] = []
        self.resolution: str | None = None

    def resolve(self, value: str, path: str) -> None:
        if self.resolution is not None and value != self.resolution:
            raise ChatError(
                f"{value} differs from {self.resolution} earlier in the example; "
                "every example must use the same mediaResolution",
                path,
            )
        self.resolution = value

    def part(self, value: object, path: str, model: bool) -> dict[str, Any]:
        part = _object(value, _PART, path)
        kinds = [k for k in ("text", "fileData") if k in part]
        if len(kinds) != 1:
            what = "an empty part" if not kinds else "both 'text' and 'fileData'"
            raise ChatError(f"{what}; a part holds exactly one of 'text' or 'fileData'", path)
        out: dict[str, Any] = {}
        if "text" in part:
            out["text"] = _text(part["text"], f"{path}.text")
            self.add_text(out["text"])
        else:
            if model:
                raise ChatError("model turns carry text only", f"{path}.fileData")
            out["fileData"] = _file_data(part["fileData"], f"{path}.fileData")
            fd = out["fileData"]
            self.media.append(Media(fd["fileUri"], fd["mimeType"], f"{path}.fileData"))
        if "mediaResolution" in part:
            where = f"{path}.mediaResolution"
            level = _object(part["mediaResolution"], _PART_RESOLUTION, where).get("level")
            value = _resolution(level, f"{where}.level", self.resolutions)
            self.resolve(value, f"{where}.level")
            out["mediaResolution"] = {"level": value}
        if "videoMetadata" in part:
            out["videoMetadata"] = _object(part["videoMetadata"], _VIDEO, f"{path}.videoMetadata")
        return out

    def content(self, value: object, path: str, role: str | None) -> dict[str, Any]:
        content = _object(value, _CONTENT, path)
        if role is not None:
            got = content.get("role")
            if got not in ROLES:
                raise ChatError(
                    f"must be 'user' or 'model' (got {json.dumps(got)})", f"{path}.role"
                )
            if got != role:
                raise ChatError(
                    f"is {got!r} where {role!r} was expected: turns alternate user/model, "
                    "starting with user",
                    f"{path}.role",
                )
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise ChatError("must be a non-empty list of parts", f"{path}.parts")
        model = role == "model"
        if role is None:  # systemInstruction: text parts, its role is ignored by the service
            out_parts = [
                {"text": self.system_text(p, f"{path}.parts[{i}]")} for i, p in enumerate(parts)
            ]
            return {"parts": out_parts}
        out_parts = [self.part(p, f"{path}.parts[{i}]", model) for i, p in enumerate(parts)]
        return {"role": role, "parts": out_parts}

    def system_text(self, value: object, path: str) -> str:
        part = _object(value, ("text",), path)
        if "text" not in part:
            raise ChatError("an empty part; a system instruction holds text parts", path)
        text = _text(part["text"], f"{path}.text")
        self.add_text(text)
        return text

    def add_text(self, text: str) -> None:
        self.chars += len(text)
        self.texts.append(text)


def _dump(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def turns(row: Mapping[str, Any], state: _Parse, last: str, what: str) -> dict[str, Any]:
    """``systemInstruction`` and ``contents`` of a row, the last turn ``last``'s."""
    out: dict[str, Any] = {}
    if "systemInstruction" in row:
        out["systemInstruction"] = state.content(
            row["systemInstruction"], "systemInstruction", None
        )
    found = row.get("contents")
    if not isinstance(found, list) or not found:
        raise ChatError("must be a non-empty list of turns", "contents")
    out["contents"] = [
        state.content(t, f"contents[{i}]", ROLES[i % 2]) for i, t in enumerate(found)
    ]
    if out["contents"][-1]["role"] != last:
        raise ChatError(f"{what} must end with a {last!r} turn", f"contents[{len(found) - 1}].role")
    return out


def parse(value: object, resolutions: tuple[str, ...]) -> Conversation:
    """One chat row -> its `Conversation`; `ChatError` with the first problem."""
    row = _object(value, _TOP, "")
    state = _Parse(resolutions)
    out = turns(row, state, "model", "the conversation")
    if "generationConfig" in row:
        config = _object(row["generationConfig"], _GENERATION, "generationConfig")
        if "mediaResolution" in config:
            where = "generationConfig.mediaResolution"
            state.resolve(_resolution(config["mediaResolution"], where, resolutions), where)
            out["generationConfig"] = {"mediaResolution": config["mediaResolution"]}
    before = {**out, "contents": out["contents"][:-1]}
    last = "".join(p.get("text", "") for p in out["contents"][-1]["parts"])
    return Conversation(
        _dump(out),
        state.chars,
        tuple(state.media),
        state.resolution,
        _dump(before),
        last,
        tuple(state.texts),
    )


def tokens(chars: int) -> int:
    """Estimated tokens of ``chars`` characters of text."""
    return -(-chars // CHARS_PER_TOKEN)


def row_of(line: str) -> Mapping[str, Any]:
    """A conversation's canonical line back as a row."""
    value = json.loads(line)
    assert isinstance(value, dict)
    return value
