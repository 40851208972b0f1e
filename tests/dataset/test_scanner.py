"""Datasets: readers, per-example rules, dataset limits, the fingerprint and re-streaming."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gitops_tune import dataset
from gitops_tune.dataset import (
    Example,
    Fingerprinter,
    Scan,
    Source,
    file_source,
    fingerprint,
    limits,
    readers,
    scan,
    short_fingerprint,
    stream,
)
from gitops_tune.errors import Diagnostic, Location, UserError
from tests.conftest import Tree, rows

BASE = "models/gemini-1.5-flash-001-tuning"
HP = {"epochCount": 5, "batchSize": 4, "learningRate": 0.001}


def check(source: Source) -> list[str]:
    return [str(d) for d in scan(source, BASE, HP, None).errors]


def jsonl_problems(tree: Tree, lines: list[str], **kw: str) -> list[str]:
    tree.write("data/next.jsonl", "".join(line + "\n" for line in lines))
    return check(file_source("data/next.jsonl", "data/next.jsonl", **kw))


def good(i: int = 0) -> str:
    return json.dumps({"text_input": str(i), "output": str(i + 1)})


# --- JSONL -----------------------------------------------------------------------------------


def test_jsonl_reads_rows_skipping_blank_lines(tree: Tree) -> None:
    tree.write("d.jsonl", good(1) + "\n\n   \n" + good(2) + "\n")
    result = scan(file_source("d.jsonl", "d.jsonl"), BASE, HP, None)
    assert (result.count, result.errors) == (2, ())
    assert list(stream(file_source("d.jsonl", "d.jsonl"), BASE, HP)) == [
        Example("1", "2"),
        Example("2", "3"),
    ]


def test_output_too_long_names_file_and_line(tree: Tree) -> None:
    lines = [good(i) for i in range(7)]
    lines.append(json.dumps({"text_input": "x", "output": "y" * 5120}))
    assert jsonl_problems(tree, lines) == [
        "data/next.jsonl:8: output is 5,120 characters; the limit is 5,000"
    ]


def test_input_limit_counts_the_preamble(tree: Tree) -> None:
    row = json.dumps({"text_input": "x" * 39_995, "output": "y"})
    assert jsonl_problems(tree, [row]) == []
    assert jsonl_problems(tree, [row], preamble="Next: ") == [
        "data/next.jsonl:1: text_input is 40,001 characters with the preamble; the limit is 40,000"
    ]


def test_row_shape_rules(tree: Tree) -> None:
    lines = [
        '{"text_input": "1", "output": 2}',
        '{"text_input": "", "output": "2"}',
        '{"text_input": "1", "output": "  "}',
        '{"textInput": "1", "output": "2"}',
        '["1", "2"]',
        '{"messages": [{"role": "user", "content": "hi"}]}',
        '{"text_input": ["a", "b"], "output": "c"}',
        "{not json",
        '{"text_input": "1", "output": "2", "id": 7}',
    ]
    assert jsonl_problems(tree, lines) == [
        "data/next.jsonl:1: output must be a string (got integer 2)",
        "data/next.jsonl:2: text_input is empty",
        "data/next.jsonl:3: output is only whitespace [empty-output]",
        "data/next.jsonl:4: missing 'text_input' (found 'textInput'; spec.dataset.inputField "
        "names the field to read)",
        "data/next.jsonl:5: an example must be a JSON object with 'text_input' and 'output' "
        "(got list)",
        "data/next.jsonl:6: multi-turn conversations are not supported; each example is one "
        "'text_input'/'output' pair of strings",
        "data/next.jsonl:7: multi-turn conversations are not supported; each example is one "
        "'text_input'/'output' pair of strings",
        "data/next.jsonl:8:2: invalid JSON: Expecting property name enclosed in double quotes",
    ]  # extra fields in data files (line 9) are ignored


def test_custom_fields(tree: Tree) -> None:
    tree.jsonl("d.jsonl", [{"q": "a", "a": "b"}] * 3)
    src = file_source("d.jsonl", "d.jsonl", input_field="q", output_field="a", preamble="Q: ")
    assert list(stream(src, BASE, HP)) == [Example("Q: a", "b")] * 3


def test_not_utf8_is_a_clean_error(tree: Tree) -> None:
    tree.write("d.jsonl", (good(1) + "\n").encode() + b'{"text_input": "\xe9", "output": "x"}\n')
    assert check(file_source("d.jsonl", "d.jsonl")) == [
        "d.jsonl:2: not valid UTF-8 (byte offset 51)"
    ]


def test_lone_surrogate_is_refused(tree: Tree) -> None:
    tree.write("d.jsonl", '{"text_input": "a\\ud800", "output": "b"}\n')
    assert check(file_source("d.jsonl", "d.jsonl")) == [
        "d.jsonl:1: contains an unpaired surrogate; not valid Unicode"
    ]


def test_errors_are_capped_per_dataset(tree: Tree) -> None:
    tree.write("d.jsonl", "[]\n" * 150)
    messages = check(file_source("d.jsonl", "d.jsonl"))
    assert len(messages) == dataset.MAX_ROW_ERRORS + 1
    assert messages[-1] == "d.jsonl: ... and 50 more problems in this dataset"


# --- CSV -------------------------------------------------------------------------------------


def test_csv_bom_crlf_quoted_newlines(tree: Tree) -> None:
    content = (
        '\ufefftext_input,output,note\r\n1,2,x\r\n"multi\r\nline",3,y\r\n\r\n"a ""q""",b,z\r\n'
    )
    tree.write("d.csv", content.encode("utf-8"))
    src = file_source("d.csv", "d.csv")
    assert list(stream(src, BASE, HP)) == [
        Example("1", "2"),
        Example("multi\r\nline", "3"),
        Example('a "q"', "b"),
    ]


def test_csv_rows_are_numbered_by_their_first_line(tree: Tree) -> None:
    tree.write("d.csv", 'text_input,output\n"two\nlines",\n"x",y\n3,4,5\n')
    assert check(file_source("d.csv", "d.csv")) == [
        "d.csv:2: output is empty [empty-output]",
        "d.csv:5: row has 3 fields; the header has 2",
    ]


def test_csv_missing_column(tree: Tree) -> None:
    tree.write("d.csv", "question,answer\nq,a\n")
    assert check(file_source("d.csv", "d.csv", output_field="answer")) == [
        "d.csv:1: no column named 'text_input' in the header row (columns: 'question', "
        "'answer'); name the column with spec.dataset.inputField"
    ]
    src = file_source("d.csv", "d.csv", input_field="question", output_field="answer")
    assert list(stream(src, BASE, HP)) == [Example("q", "a")]


def test_csv_empty_and_malformed(tree: Tree) -> None:
    tree.write("e.csv", "")
    assert check(file_source("e.csv", "e.csv")) == [
        "e.csv:1: empty CSV file; a header row naming the columns is required"
    ]
    tree.write("b.csv", 'text_input,output\n"a"b,c\n')
    assert check(file_source("b.csv", "b.csv")) == ["b.csv:2: invalid CSV: ',' expected after '\"'"]


def test_csv_not_utf8(tree: Tree) -> None:
    tree.write("d.csv", b"text_input,output\ncaf\xe9,x\n")
    assert check(file_source("d.csv", "d.csv")) == ["d.csv:2: not valid UTF-8 (byte offset 21)"]


# --- JSON ------------------------------------------------------------------------------------


def test_json_array_rows_have_line_and_column(tree: Tree) -> None:
    tree.write("d.json", '[\n  {"text_input": "1", "output": "2"},\n  {"text_input": "3"}\n]\n')
    assert check(file_source("d.json", "d.json")) == ["d.json:3:3: missing 'output'"]


def test_json_must_be_an_array(tree: Tree) -> None:
    tree.write("d.json", '{"text_input": "1"}')
    assert check(file_source("d.json", "d.json")) == [
        "d.json:1:1: a .json dataset must be a JSON array of objects (use .jsonl for one object "
        "per line)"
    ]
    tree.write("s.json", '[{"text_input": "1", "output": "2"},\n {"text_input": }]')
    assert check(file_source("s.json", "s.json")) == ["s.json:2:17: invalid JSON: Expecting value"]
    tree.write("t.json", "[]\n]")
    assert check(file_source("t.json", "t.json")) == [
        "t.json:2:1: invalid JSON: extra data after the array"
    ]


def test_unsupported_suffix_and_unreadable(tree: Tree) -> None:
    tree.write("d.txt", "")
    assert check(file_source("d.txt", "d.txt")) == [
        "d.txt: unsupported dataset file type; use one of .jsonl, .json, .csv"
    ]
    assert check(file_source("gone.jsonl", "gone.jsonl")) == [
        "gone.jsonl: cannot read: No such file or directory"
    ]


# --- dataset limits --------------------------------------------------------------------------

AT = Location("m.yaml", 7, 3)


def result(count: int, size: int = 100) -> Scan:
    return Scan(count, size, "0" * 64, ())


def test_at_least_20_examples() -> None:
    assert [str(d) for d in limits(result(19), None, AT)] == [
        "m.yaml:7:3: spec.dataset: 19 examples; at least 20 are required"
    ]
    assert [str(d) for d in limits(result(1), None, AT)] == [
        "m.yaml:7:3: spec.dataset: 1 example; at least 20 are required"
    ]


@pytest.mark.parametrize(
    ("task", "advice"),
    [
        (None, "100-500 are recommended"),
        ("other", "100-500 are recommended"),
        ("classification", "100+ are recommended for classification"),
        ("summarization", "100-500 are recommended for summarization"),
        ("document-search", "100+ are recommended for document search"),
    ],
)
def test_fewer_than_100_is_a_task_specific_warning(task: str | None, advice: str) -> None:
    (warning,) = limits(result(20), task, AT)
    assert warning.severity == "warning"
    assert str(warning) == f"m.yaml:7:3: warning: spec.dataset: 20 examples; {advice}"
    assert limits(result(100), task, AT) == []


def test_serialized_size_at_most_4_mib(tree: Tree) -> None:
    row = {"text_input": "x", "output": "y" * 4_990}
    tree.jsonl("big.jsonl", [row] * 850)  # 850 * 5,020 bytes > 4 MiB
    big = scan(file_source("big.jsonl", "big.jsonl"), BASE, HP, None)
    assert big.errors == ()
    assert big.size == 2 + 850 * len('{"textInput":"x","output":"' + "y" * 4_990 + '"}') + 849
    assert [str(d) for d in limits(big, None, AT)] == [
        f"m.yaml:7:3: spec.dataset: the examples serialize to {big.size:,} bytes; the limit is "
        "4,194,304 bytes (4 MiB)"
    ]
    assert limits(result(200, dataset.MAX_DATASET_BYTES), None, AT) == []
    # issue 16: the error names the data file the request's examples come from
    (named,) = limits(big, None, AT, shown="data/big.jsonl")
    assert f"{big.size:,} bytes, all from data/big.jsonl (850 examples); the limit" in str(named)


# --- fingerprint -----------------------------------------------------------------------------


def reference(base: str, hp: dict[str, object], examples: list[tuple[str, str]]) -> str:
    """The documented encoding, written out independently."""
    h = hashlib.sha256()
    header = {"baseModel": base, "format": "gitops-tune/fingerprint/v1", "hyperparameters": hp}
    h.update(json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    for text, out in examples:
        line = json.dumps({"textInput": text, "output": out}, separators=(",", ":"))
        h.update(line.encode() + b"\n")
    return h.hexdigest()


def test_fingerprint_matches_the_documented_encoding() -> None:
    pairs = [("Next: 1", "2"), ('a "quoted"\nline', "b")]
    expected = reference(BASE, {"batchSize": 4, "epochCount": 5, "learningRate": 0.001}, pairs)
    assert fingerprint(BASE, HP, [Example(*p) for p in pairs]) == expected
    assert short_fingerprint(expected) == expected[:12]


def test_fingerprint_fills_defaults_and_canonical_numbers() -> None:
    ex = [Example("1", "2")]
    assert fingerprint(BASE, {}, ex) == fingerprint(BASE, HP, ex)
    assert fingerprint(BASE, {"learningRate": 1e-3}, ex) == fingerprint(BASE, HP, ex)
    one = fingerprint(BASE, {"learningRateMultiplier": 1}, ex)
    assert one == fingerprint(BASE, {"learningRateMultiplier": 1.0}, ex)
    assert one != fingerprint(BASE, {"learningRate": 1.0}, ex)


def test_equal_values_of_other_types_are_other_headers() -> None:
    """``True == 1`` but their JSON differs: the header's cache must tell them apart (and the
    cache's settings key too), whichever comes first."""
    ex = [Example("1", "2")]
    hps: list[dict[str, object]] = [{"seed": 1}, {"seed": True}, {"seed": 1.0}, {"seed": 1}]
    found = [fingerprint(BASE, hp, ex) for hp in hps]
    assert len(set(found[:3])) == 3 and found[3] == found[0]
    assert found == [reference(BASE, {**HP, **hp}, [("1", "2")]) for hp in hps]


def test_a_hyperparameter_that_cannot_be_a_cache_key_is_hashed_uncached() -> None:
    """A list value cannot key the per-model caches (`fingerprints.per_model`): the header is
    made each time instead, the same as the reference's."""
    ex = [Example("1", "2")]
    hp: dict[str, object] = {"seed": [1, 2]}
    assert fingerprint(BASE, hp, ex) == reference(BASE, {**HP, **hp}, [("1", "2")])


@pytest.mark.parametrize(
    "change",
    [
        {"base": "models/other"},
        {"hp": {"epochCount": 6}},
        {"hp": {"batchSize": 8}},
        {"hp": {"learningRate": 0.002}},
        {"examples": [Example("1", "3")]},
        {"examples": [Example("1", "2"), Example("1", "2")]},
        {"examples": [Example("Next: 1", "2")]},
    ],
)
def test_fingerprint_changes_with_what_forces_a_new_model(change: dict[str, object]) -> None:
    base = fingerprint(BASE, HP, [Example("1", "2")])
    other = fingerprint(
        str(change.get("base", BASE)),
        {**HP, **change.get("hp", {})},  # type: ignore[dict-item]
        change.get("examples", [Example("1", "2")]),  # type: ignore[arg-type]
    )
    assert other != base


def test_same_examples_same_fingerprint_from_every_source(tree: Tree) -> None:
    data = [*rows(25), {"text_input": 'he said "hi",\nthen left', "output": "ünïcode ✓"}]
    tree.jsonl("a/x.jsonl", data)
    tree.write("b/y.json", json.dumps(data, indent=4))
    lines = ["text_input,output"] + [
        ",".join('"' + v.replace('"', '""') + '"' for v in (r["text_input"], r["output"]))
        for r in data
    ]
    tree.write("c/z.csv", "\r\n".join(lines) + "\r\n")
    fps = {
        scan(file_source(p, p, preamble="P: "), BASE, HP, None).fingerprint
        for p in ("a/x.jsonl", "b/y.json", "c/z.csv")
    }
    assert len(fps) == 1
    expected = fingerprint(BASE, HP, [Example("P: " + r["text_input"], r["output"]) for r in data])
    assert fps == {expected}


# --- streaming -------------------------------------------------------------------------------


def test_stream_detects_a_dataset_changed_since_validation(tree: Tree) -> None:
    path: Path = tree.jsonl("d.jsonl", rows(20))
    src = file_source("d.jsonl", "d.jsonl")
    fp = scan(src, BASE, HP, None).fingerprint
    assert len(list(stream(src, BASE, HP, fp))) == 20
    tree.jsonl("d.jsonl", rows(20, tag="v2-"))
    with pytest.raises(UserError) as e:
        list(stream(src, BASE, HP, fp))
    assert str(e.value).startswith("d.jsonl: changed since it was validated (fingerprint ")
    path.write_text("[]\n")
    with pytest.raises(UserError, match=r"^d\.jsonl:1: an example must be a JSON object"):
        list(stream(src, BASE, HP, fp))


def test_fingerprinter_counts_and_sizes() -> None:
    fp = Fingerprinter(BASE, HP)
    assert (fp.count, fp.size) == (0, 2)
    fp.add("a", "b")
    fp.add("c", "d")
    assert fp.count == 2
    assert fp.size == len('[{"textInput":"a","output":"b"},{"textInput":"c","output":"d"}]')


def test_json_dataset_over_the_whole_file_cap_is_refused_without_reading_it_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "MAX_JSON_FILE_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_text("[" + ",".join(['{"text_input": "a", "output": "b"}'] * 100) + "]")
    (item,) = list(dataset.read_json(str(big), "data/big.json"))
    assert isinstance(item, Diagnostic)
    assert str(item) == (
        "data/big.json: a .json dataset is read whole and may be at most 1,000 bytes;"
        " use .jsonl, which is streamed"
    )
