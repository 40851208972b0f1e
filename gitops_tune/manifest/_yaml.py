"""YAML with positions: compose with PyYAML (libyaml when present), build plain Python here.

Building the Python values ourselves keeps every key's line and column, refuses what a
manifest never needs (custom tags, complex keys, duplicate keys), and bounds aliases: a
document whose aliases would expand to more than `MAX_ALIAS_EXPANSION` extra nodes (a
"billion laughs" bomb) is refused after a linear pass over its composed node graph, before
anything is expanded.

Scalars follow YAML 1.1 as PyYAML resolves them, with one YAML 1.2 fix: a plain scalar that is
a number in exponent form without a dot (``1e-3``) is a float, not a string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gitops_tune.errors import Diagnostic, Location

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

PathKey = tuple[str | int, ...]

MAX_ALIAS_EXPANSION = 100_000  # nodes that aliases may add to one document
MAX_DEPTH = 100
# libyaml's composer recurses in C: tens of thousands of nesting levels crash the process
# (SIGSEGV) instead of raising. Texts that could nest deeper than this are checked first.
SAFE_NESTING_BOUND = 10_000

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_AS_TEXT = frozenset({"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary", "!"})
_FLOAT_12 = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+\Z")

_constructor = SafeConstructor()


class _Composer(_Loader):
    """PyYAML's safe loader, only composing, with a cheaper tag resolution.

    Manifests register no path resolvers, so descending/ascending is skipped and untagged
    nodes resolve to their default tags directly; plain scalars resolve as PyYAML does,
    memoized for short values (keys repeat in every example).
    """

    _memo: dict[str, str] = {}  # noqa: RUF012 (a process-wide cache of a pure function)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode:
            return _MAP if kind is MappingNode else _SEQ
        if not implicit[0]:  # quoted or block scalar
            return _STR
        tag = self._memo.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(value) <= 32 and len(self._memo) < 4096:
                self._memo[value] = tag
        return tag


@dataclass
class Document:
    """One YAML document as plain Python, with where each key (or list item) was written."""

    file: str
    index: int  # 0-based position among the file's non-empty documents
    data: Any
    start: Location
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict, repr=False)

    def locate(self, path: Sequence[str | int]) -> Location:
        """Where ``path`` was written, or its nearest written ancestor (the document start)."""
        key = tuple(path)
        while key:
            found = self.positions.get(key)
            if found is not None:
                return Location(self.file, found[0], found[1])
            key = key[:-1]
        return self.start


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def _location(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def parse(text: str, file: str) -> tuple[list[Document], list[Diagnostic]]:
    """All non-empty documents of a YAML stream, or the diagnostics that stop it.

    Syntax errors stop the whole file (nothing after one can be trusted); construction
    problems (duplicate keys, tags) are collected per document.
    """
    documents: list[Document] = []
    problems: list[Diagnostic] = []
    may_alias = "*" in text
    loader = _Composer(text)
    try:
        too_deep = _too_deep(text, file)
        if too_deep is not None:
            return [], [too_deep]
        while loader.check_node():
            node = loader.get_node()
            if node is None or (
                isinstance(node, ScalarNode) and node.tag == _NULL and node.value == ""
            ):
                continue
            start = _location(file, node.start_mark)
            builder = _Builder(file)
            try:
                if may_alias:
                    _check_aliases(node, file)
                data = builder.build(node, ())
            except _Refused as e:
                problems.append(e.diagnostic)
                continue
            problems.extend(builder.problems)
            documents.append(Document(file, len(documents), data, start, builder.positions))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = _location(file, mark) if mark is not None else Location(file)
        problem = e.problem or "invalid YAML"
        context = f" ({e.context})" if e.context else ""
        problems.append(Diagnostic(f"invalid YAML: {problem}{context}", where))
    except yaml.YAMLError as e:
        problems.append(Diagnostic(f"invalid YAML: {e}", Location(file)))
    except RecursionError:
        problems.append(Diagnostic("invalid YAML: nested too deeply", Location(file)))
    finally:
        loader.dispose()
    return documents, problems


def nesting_bound(text: str) -> int:
    """How deep ``text`` can nest, at most: no deeper than its nesting indicators, nor than
    twice its ``[`` (a flow sequence's ``a: b`` or ``? a`` entry is a mapping of its own) plus
    its ``{`` plus twice its longest line (along any path of block nodes the column never
    falls, and it rises at least every second level: only a block sequence that is a
    mapping's value may stand at its key's column)."""
    indicators = sum(text.count(c) for c in "[{-:?")
    if indicators <= SAFE_NESTING_BOUND:
        return indicators
    longest = max(map(len, text.split("\n")))
    return min(indicators, 2 * text.count("[") + text.count("{") + 2 * (longest + 1))


def _too_deep(text: str, file: str) -> Diagnostic | None:
    """Refuse nesting beyond `MAX_DEPTH` before composing, from the (iterative) event stream;
    only a text that could nest deeper than `SAFE_NESTING_BOUND` pays for it."""
    if nesting_bound(text) <= SAFE_NESTING_BOUND:
        return None
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return Diagnostic(
                    f"YAML nested more than {MAX_DEPTH} levels deep",
                    _location(file, event.start_mark),
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _check_aliases(root: Node, file: str) -> None:
    """Refuse recursive aliases and documents whose aliases expand beyond the bound."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node, depth: int) -> int:
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in active:
            raise _Refused(
                Diagnostic(
                    "a YAML alias refers to its own anchor (recursive data is not supported)",
                    _location(file, node.start_mark),
                )
            )
        if depth > MAX_DEPTH:
            raise _Refused(
                Diagnostic(
                    f"YAML nested more than {MAX_DEPTH} levels deep",
                    _location(file, node.start_mark),
                )
            )
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
        active.discard(key)
        sizes[key] = total
        return total

    expanded = size(root, 0)
    if expanded - len(sizes) > MAX_ALIAS_EXPANSION:
        raise _Refused(
            Diagnostic(
                f"YAML aliases would expand this document to {expanded:,} nodes; refusing "
                f"(at most {MAX_ALIAS_EXPANSION:,} added by aliases)",
                _location(file, root.start_mark),
            )
        )


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[PathKey, tuple[int, int]] = {}
        self.problems: list[Diagnostic] = []

    def build(self, node: Node, path: PathKey) -> Any:
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if len(path) > MAX_DEPTH:
            raise _Refused(
                Diagnostic(
                    f"YAML nested more than {MAX_DEPTH} levels deep",
                    _location(self.file, node.start_mark),
                )
            )
        if isinstance(node, SequenceNode):
            items = []
            for i, child in enumerate(node.value):
                child_path = (*path, i)
                mark = child.start_mark
                self.positions[child_path] = (mark.line + 1, mark.column + 1)
                items.append(self.build(child, child_path))
            return items
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        raise _Refused(Diagnostic("unsupported YAML node", _location(self.file, node.start_mark)))

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR:
            value: str = node.value
            if not node.style and _FLOAT_12.match(value):  # plain: None, or '' with libyaml
                return float(value)
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _constructor.construct_yaml_bool(node)
        if tag == _INT:
            return _constructor.construct_yaml_int(node)
        if tag == _FLOAT:
            return _constructor.construct_yaml_float(node)
        if tag in _AS_TEXT:
            return node.value
        raise _Refused(
            Diagnostic(
                f"unsupported YAML tag {tag!r}; manifests use plain values",
                _location(self.file, node.start_mark),
            )
        )

    def mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(self.merge_pairs(value_node))
                continue
            key = self.key(key_node)
            mark = key_node.start_mark
            where = (mark.line + 1, mark.column + 1)
            child_path = (*path, key)
            if key in out:
                first = self.positions[child_path]
                self.problems.append(
                    Diagnostic(
                        f"duplicate key {key!r} (first at line {first[0]})",
                        Location(self.file, *where),
                        dotted(child_path),
                    )
                )
                continue
            self.positions[child_path] = where
            out[key] = self.build(value_node, child_path)
        for key_node, value_node in merged:  # explicit keys win, then earlier merges
            key = self.key(key_node)
            if key in out:
                continue
            child_path = (*path, key)
            mark = key_node.start_mark
            self.positions[child_path] = (mark.line + 1, mark.column + 1)
            out[key] = self.build(value_node, child_path)
        return out

    def merge_pairs(self, node: Node) -> list[tuple[Node, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        pairs: list[tuple[Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                raise _Refused(
                    Diagnostic(
                        "a YAML merge key (<<) takes a mapping or a list of mappings",
                        _location(self.file, source.start_mark),
                    )
                )
            own = [(k, v) for k, v in source.value if k.tag != _MERGE]
            for k, v in source.value:
                if k.tag == _MERGE:
                    own.extend(self.merge_pairs(v))
            pairs.extend(own)
        return pairs

    def key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise _Refused(
                Diagnostic(
                    "mapping keys must be plain strings",
                    _location(self.file, node.start_mark),
                )
            )
        return str(node.value)


def dotted(path: Sequence[str | int]) -> str:
    """``("spec", "dataset", "examples", 3)`` -> ``spec.dataset.examples[3]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
