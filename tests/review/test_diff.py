"""The example diff: multisets of (input, output) keyed by input, texts fetched lazily."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from gitops_tune.review.diff import diff, shorten
from gitops_tune.review.model import Sample

Pairs = list[tuple[str, str]]


def source(pairs: Pairs, reads: list[int] | None = None) -> Callable[[], Iterator[tuple[str, str]]]:
    def read() -> Iterator[tuple[str, str]]:
        if reads is not None:
            reads.append(0)
        for i, p in enumerate(pairs):
            if reads is not None:
                reads[-1] = i + 1
            yield p

    return read


def test_no_change() -> None:
    d = diff(source([("a", "1"), ("b", "2")]), source([("b", "2"), ("a", "1")]), "other", 3)
    assert (d.before, d.after, d.added, d.removed, d.changed) == (2, 2, 0, 0, 0) and d.is_empty


def test_duplicates_count_as_a_multiset() -> None:
    d = diff(source([("a", "1"), ("a", "1")]), source([("a", "1")]), "other", 3)
    assert (d.added, d.removed, d.changed) == (0, 1, 0)
    assert d.removed_samples == (Sample("a", "1"),)


def test_same_input_new_output_is_changed_and_the_rest_added() -> None:
    d = diff(source([("a", "1")]), source([("a", "2"), ("a", "3")]), "other", 3)
    assert (d.added, d.removed, d.changed) == (1, 0, 1)
    assert d.changed_samples == (Sample("a", "2", before="1"),)
    assert d.added_samples == (Sample("a", "3"),)


def test_a_new_model_has_every_example_added() -> None:
    d = diff(None, source([("a", "1"), ("b", "2")]), "other", 1)
    assert (d.before, d.after, d.added) == (0, 2, 2)
    assert d.added_samples == (Sample("a", "1"),) and d.labels_before is None


def test_samples_are_fetched_without_reading_further_than_needed() -> None:
    reads: list[int] = []
    new = [("1", "y"), *((str(i), "x") for i in range(2, 100)), ("0", "x")]
    d = diff(source([("0", "x")]), source(new, reads), "other", 1)
    assert d.added == 99 and d.added_samples == (Sample("1", "y"),)
    assert reads == [100, 1]  # the full pass, then one example


def test_labels_only_for_a_small_label_set() -> None:
    labelled = [(str(i), ("yes", "no")[i % 2]) for i in range(10)]
    d = diff(source(labelled), source(labelled[:-1]), "other", 0)
    assert d.labels_before == {"no": 5, "yes": 5} and d.labels_after == {"no": 4, "yes": 5}
    free = [(str(i), f"answer {i}") for i in range(10)]
    assert diff(source(free), source(free), "other", 0).labels_after is None


def test_long_texts_are_shortened() -> None:
    assert shorten("x" * 300) == "x" * 199 + "…" and shorten("short") == "short"
