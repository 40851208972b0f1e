"""Hostile input: property-based tests (hypothesis) over manifests and datasets.

Whatever the tree holds (random bytes or YAML, wrong types, huge strings, deep nesting,
invalid UTF-8, CSV quirks, alias bombs, path escapes, symlinks out of the tree, FIFOs and
devices), loading it ends in a clean `UserError` whose every diagnostic names a file in the
tree (and a line where there is one), within a time and memory bound, never another
exception. Through the CLI the same inputs exit 1 with one line per problem, no traceback,
and no request that could change remote state.

CI: 40 examples per property. ``GITOPS_TUNE_RELIABILITY=large``: 500.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_tune.desired import load
from gitops_tune.emulator.server import RunningEmulator
from gitops_tune.errors import UserError
from gitops_tune.settings import Invocation
from tests.harness import examples
from tests.reliability.conftest import Repo, mutating_requests, size, stats

EXAMPLES = size(40, 500)
TIME_LIMIT_S = 2.0
MEMORY_LIMIT_B = 64 * 1024 * 1024
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,  # `bounded` times the load itself, not the test's own YAML dumping
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
BASE = "models/gemini-1.5-flash-001-tuning"
CASES = {"count": 0}


def manifest(spec: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gitops-tune/v1",
        "kind": "TunedModel",
        "metadata": {"name": "m", **metadata},
        "spec": spec
        if spec is not None
        else {"baseModel": BASE, "dataset": {"examples": examples()}},
    }


@contextmanager
def bounded() -> Iterator[None]:
    """Each load must finish within TIME_LIMIT_S and allocate at most MEMORY_LIMIT_B."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < TIME_LIMIT_S * 2, f"took {elapsed:.2f} s"  # tracemalloc slows it down
    assert peak < MEMORY_LIMIT_B, f"peak {peak / 2**20:.0f} MiB"


def load_tree(files: dict[str, bytes], links: dict[str, str] | None = None) -> UserError | None:
    """Write the tree, load it; returns the error (None when the tree was valid). Fails the
    test on any other exception, on a diagnostic without a file in the tree, or on a bound."""
    CASES["count"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        root.mkdir()
        for name, data in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for name, target in (links or {}).items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, root / name)
        try:
            with bounded():
                state = load([str(root)], Invocation(backend="gemini"))
        except UserError as e:
            assert e.diagnostics
            for d in e.diagnostics:
                assert d.location is not None, f"no location: {d}"
                assert d.location.file.startswith(str(root)), d
                assert str(d).strip() and "Traceback" not in str(d)
            return e
        real = os.path.realpath(root)
        for m in state.models:  # a loaded dataset file is inside the tree
            source = m.dataset_source.split(" ")[0]
            if source and not source.endswith(".yaml"):
                assert os.path.realpath(source).startswith(real + os.sep), source
        return None


def dump(doc: Any) -> bytes:
    text: str = yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)
    return text.encode("utf-8", "surrogatepass")


# -- strategies ------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.sampled_from(["", "5", "1e-3", "yes", "~", "null", "models/x", "-", "*a", "&a", "!!str"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
FIELDS = [
    ("apiVersion",),
    ("kind",),
    ("metadata",),
    ("metadata", "name"),
    ("metadata", "labels"),
    ("spec",),
    ("spec", "baseModel"),
    ("spec", "displayName"),
    ("spec", "description"),
    ("spec", "preamble"),
    ("spec", "task"),
    ("spec", "dataset"),
    ("spec", "dataset", "examples"),
    ("spec", "dataset", "path"),
    ("spec", "dataset", "inputField"),
    ("spec", "hyperparameters"),
    ("spec", "hyperparameters", "epochCount"),
    ("spec", "hyperparameters", "batchSize"),
    ("spec", "hyperparameters", "learningRate"),
    ("spec", "hyperparameters", "learningRateMultiplier"),
    ("spec", "lifecycle"),
    ("spec", "lifecycle", "preventDestroy"),
    ("spec", "lifecycle", "retainPrevious"),
    ("spec", "unknownField"),
]


def set_path(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = doc
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


# -- manifests -------------------------------------------------------------------------------


@PROPERTY
@given(st.binary(max_size=3000))
def test_random_bytes_as_a_manifest(data: bytes) -> None:
    load_tree({"m.yaml": data})


@PROPERTY
@given(st.text(max_size=3000))
def test_random_text_as_a_manifest(text: str) -> None:
    load_tree({"m.yaml": text.encode("utf-8", "surrogatepass")})


@PROPERTY
@given(st.lists(values, min_size=1, max_size=3))
def test_random_yaml_documents(docs: list[Any]) -> None:
    text = yaml.dump_all(docs, Dumper=yaml.CSafeDumper)
    load_tree({"m.yaml": text.encode("utf-8", "surrogatepass")})


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(FIELDS), values), min_size=1, max_size=4))
def test_wrong_types_in_any_field(changes: list[tuple[tuple[str, ...], Any]]) -> None:
    doc = manifest()
    for path, value in changes:
        set_path(doc, path, value)
    load_tree({"m.yaml": dump(doc)})


@PROPERTY
@given(
    st.sampled_from([f for f in FIELDS if len(f) > 1]),
    st.integers(min_value=10_000, max_value=1_000_000),
    st.sampled_from(["x", "é", "\U0001f600", "\n", "'", "\\", "a b: c"]),
)
def test_huge_strings(path: tuple[str, ...], n: int, char: str) -> None:
    doc = manifest()
    set_path(doc, path, char * n)
    load_tree({"m.yaml": dump(doc)})


@PROPERTY
@given(
    st.integers(min_value=50, max_value=200_000),
    st.sampled_from(["[", "{a: ", "- ", "block-seq", "block-map"]),
    st.booleans(),
)
def test_deep_nesting(depth: int, kind: str, inside_spec: bool) -> None:
    if kind == "block-seq":
        depth = min(depth, 3000)  # indentation grows quadratically
        body = "".join(" " * i + "-\n" for i in range(depth)) + " " * depth + "x\n"
    elif kind == "block-map":
        depth = min(depth, 3000)
        body = "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "x\n"
    else:
        close = {"[": "]", "{a: ": "}", "- ": ""}[kind]
        body = kind * depth + "x" + close * depth + "\n"
    if inside_spec:
        text = (
            "apiVersion: gitops-tune/v1\nkind: TunedModel\nmetadata: {name: m}\nspec:\n"
            "  baseModel: " + BASE + "\n  labels: " + body.replace("\n", "\n   ")
        )
    else:
        text = body
    assert load_tree({"m.yaml": text.encode()}) is not None


@PROPERTY
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=2, max_value=12))
def test_alias_bombs(levels: int, width: int) -> None:
    lines = ["a0: &a0 [x]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    text = "\n".join(lines) + "\n"
    error = load_tree({"m.yaml": text.encode()})
    assert error is not None  # not a manifest anyway; when it is a bomb, refused unexpanded
    if width**levels > 200_000:
        assert "aliases would expand" in str(error)


@PROPERTY
@given(st.binary(min_size=1, max_size=8), st.integers(min_value=0, max_value=10_000))
def test_invalid_utf8_anywhere(junk: bytes, where: int) -> None:
    data = dump(manifest())
    where %= len(data)
    bad = data[:where] + b"\xff" + junk + data[where:]
    error = load_tree({"m.yaml": bad})
    assert error is not None


# -- datasets --------------------------------------------------------------------------------

cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(['"', '""', '"a,b"', "a\nb", "a\r\nb", "\x00", " ", ",", "\ufeff", "'"]),
)


@PROPERTY
@given(
    header=st.lists(
        st.sampled_from(["text_input", "output", "id", "", "TEXT_INPUT", '"output"', "output "]),
        min_size=0,
        max_size=4,
    ),
    rows=st.lists(st.lists(cells, min_size=0, max_size=5), max_size=40),
    bom=st.booleans(),
    crlf=st.booleans(),
    raw_quotes=st.booleans(),
)
def test_csv_quirks(
    header: list[str], rows: list[list[str]], bom: bool, crlf: bool, raw_quotes: bool
) -> None:
    newline = "\r\n" if crlf else "\n"

    def line(cells_: list[str]) -> str:
        if raw_quotes:  # unbalanced quotes and all
            return ",".join(cells_)
        return ",".join('"' + c.replace('"', '""') + '"' for c in cells_)

    text = ("\ufeff" if bom else "") + newline.join(line(r) for r in [header, *rows]) + newline
    spec = {"baseModel": BASE, "dataset": {"path": "data.csv"}}
    error = load_tree(
        {"m.yaml": dump(manifest(spec)), "data.csv": text.encode("utf-8", "surrogatepass")}
    )
    if error is not None:
        assert any(
            d.location is not None and d.location.file.endswith(("data.csv", "m.yaml"))
            for d in error.diagnostics
        )


@PROPERTY
@given(
    lines=st.lists(
        st.one_of(
            st.builds(
                lambda a, b: f'{{"text_input": {a!r}, "output": {b!r}}}'.replace("'", '"'),
                st.text(alphabet="abc xyz", max_size=10),
                st.text(alphabet="abc xyz", max_size=10),
            ),
            st.text(max_size=40),
            st.sampled_from(["", "{}", "[]", "null", '{"text_input": 1, "output": 2}', "[" * 5000]),
        ),
        max_size=40,
    ),
    suffix=st.sampled_from(["jsonl", "json"]),
    junk=st.binary(max_size=4),
)
def test_json_datasets(lines: list[str], suffix: str, junk: bytes) -> None:
    if suffix == "json":
        data = ("[" + ",\n".join(lines) + "]").encode("utf-8", "surrogatepass") + junk
    else:
        data = "\n".join(lines).encode("utf-8", "surrogatepass") + junk
    spec = {"baseModel": BASE, "dataset": {"path": f"data.{suffix}"}}
    load_tree({"m.yaml": dump(manifest(spec)), f"data.{suffix}": data})


# -- paths -----------------------------------------------------------------------------------

PIECES = [
    "..",
    ".",
    "sub",
    "data.jsonl",
    "out",
    "out-file.jsonl",
    "loop.jsonl",
    "fifo.jsonl",
    "dir.jsonl",
    "~",
    "",
    "%2e%2e",
    "..\\..",
    "etc",
    "passwd",
]


@PROPERTY
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=6),
    st.booleans(),
    st.sampled_from(["m.yaml", "sub/m.yaml", "sub/deeper/m.yaml"]),
)
def test_path_escapes_and_symlinks_out_of_the_tree(
    pieces: list[str], absolute: bool, manifest_at: str
) -> None:
    path = ("/" if absolute else "") + "/".join(pieces)
    with tempfile.TemporaryDirectory() as outside:
        secret = Path(outside) / "out-file.jsonl"
        secret.write_text("".join(f'{{"text_input": "s{i}", "output": "t"}}\n' for i in range(30)))
        files = {
            manifest_at: dump(manifest({"baseModel": BASE, "dataset": {"path": path}})),
            "data.jsonl": secret.read_bytes(),
            "sub/data.jsonl": secret.read_bytes(),
        }
        links = {
            "out": outside,  # a directory symlink out of the tree
            "sub/out": outside,
            "out-file.jsonl": str(secret),
            "sub/out-file.jsonl": str(secret),
            "loop.jsonl": "loop.jsonl",
            "dir.jsonl": ".",
        }
        load_tree(files, links)


def test_special_files_are_refused_not_read(tmp_path: Path) -> None:
    """A FIFO would block forever and /dev/zero never ends: as manifests and as datasets."""
    spec = {"baseModel": BASE, "dataset": {"path": "data.jsonl"}}
    cases: list[tuple[dict[str, bytes], dict[str, str]]] = [
        ({}, {"m.yaml": "/dev/zero"}),
        ({"m.yaml": dump(manifest(spec))}, {"data.jsonl": "/dev/zero"}),
    ]
    for files, links in cases:
        error = load_tree(files, links)
        assert error is not None
    fifo_tree = tmp_path / "fifo"
    fifo_tree.mkdir()
    os.mkfifo(fifo_tree / "m.yaml")
    with bounded(), pytest.raises(UserError, match="not a regular file"):
        load([str(fifo_tree)], Invocation(backend="gemini"))
    (fifo_tree / "m.yaml").unlink()
    (fifo_tree / "m.yaml").write_bytes(dump(manifest(spec)))
    os.mkfifo(fifo_tree / "data.jsonl")
    with bounded(), pytest.raises(UserError, match="not a file"):
        load([str(fifo_tree)], Invocation(backend="gemini"))


def test_large_files_stay_within_time_and_memory(tmp_path: Path) -> None:
    big_line = b'{"text_input": "' + b"x" * 20_000_000 + b'", "output": "y"}\n'
    spec = {"baseModel": BASE, "dataset": {"path": "data.jsonl"}}
    error = load_tree({"m.yaml": dump(manifest(spec)), "data.jsonl": big_line})
    assert error is not None and "the limit is 40,000" in str(error)
    huge_manifest = b"description: " + b"x" * (33 * 2**20) + b"\n"
    error = load_tree({"m.yaml": huge_manifest})
    assert error is not None and "larger than" in str(error)


# -- through the CLI, against an emulator that counts requests --------------------------------

HOSTILE: dict[str, tuple[dict[str, bytes], dict[str, str]]] = {
    "deep nesting": ({"m.yaml": b"[" * 100_000 + b"]" * 100_000}, {}),
    "alias bomb": (
        {
            "m.yaml": (
                "a0: &a0 [x]\n"
                + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9))
            ).encode()
        },
        {},
    ),
    "invalid utf-8": ({"m.yaml": dump(manifest()) + b"\xff\xfe"}, {}),
    "wrong type": ({"m.yaml": dump(manifest({"baseModel": BASE, "dataset": {"examples": 5}}))}, {}),
    "csv missing column": (
        {
            "m.yaml": dump(manifest({"baseModel": BASE, "dataset": {"path": "d.csv"}})),
            "d.csv": b"\xef\xbb\xbftext_input\r\n" + b'"a ""q"""\r\n' * 25,
        },
        {},
    ),
    "json nested too deeply": (
        {
            "m.yaml": dump(manifest({"baseModel": BASE, "dataset": {"path": "d.jsonl"}})),
            "d.jsonl": b"[" * 100_000 + b"]" * 100_000 + b"\n",
        },
        {},
    ),
    "symlink out of the tree": (
        {"m.yaml": dump(manifest({"baseModel": BASE, "dataset": {"path": "d.jsonl"}}))},
        {"d.jsonl": "/etc/hostname"},
    ),
    "path escape": (
        {"m.yaml": dump(manifest({"baseModel": BASE, "dataset": {"path": "../../etc/x.jsonl"}}))},
        {},
    ),
    "device as manifest": ({}, {"m.yaml": "/dev/zero"}),
}
_LOCATED = re.compile(r"(m\.yaml|d\.csv|d\.jsonl)(:\d+)*: ")


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_cli_hostile_input_exits_1_cleanly_and_changes_nothing(
    case: str, repo: Repo, emulator: RunningEmulator
) -> None:
    # A valid model next to the hostile one: nothing may be created for it either.
    repo.write("valid")
    files, links = HOSTILE[case]
    for name, data in files.items():
        (repo.root / name).write_bytes(data)
    for name, target in links.items():
        os.symlink(target, repo.root / name)
    for args in (("validate", str(repo.root)), ("plan",), ("apply", "--auto-approve")):
        started = time.monotonic()
        result = repo.cli(*args)
        assert time.monotonic() - started < 10
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output and "internal error" not in result.output
        assert _LOCATED.search(result.output), result.output
    assert not mutating_requests(stats(repo.url))


def test_zz_report_cases() -> None:
    print(f"hostile input: {CASES['count']} generated trees loaded (EXAMPLES={EXAMPLES})")
