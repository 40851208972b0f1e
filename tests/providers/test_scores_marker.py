"""An evaluation's outcome in the markers: the Gemini API description, Vertex AI labels."""

from __future__ import annotations

from gitops_tune.providers.base import Owner, Scores
from gitops_tune.providers.gemini import marker_scores, split_marker, with_marker
from gitops_tune.providers.vertex_jobs import L_SCORE, owner_from, score_labels, scores_from

OWNER = Owner("ws", "alpha", "a" * 64, prevent_destroy=True)
SCORES = Scores("0123456789ab", 0.8125, "rejected")


def test_gemini_marker_round_trip_keeps_owner_and_scores() -> None:
    text = with_marker("Routes tickets", OWNER, SCORES)
    assert text.endswith("prevent-destroy eval=rejected/0.8125/0123456789ab]")
    assert split_marker(text) == ("Routes tickets", OWNER)
    assert marker_scores(text) == SCORES
    assert marker_scores(with_marker("Routes tickets", OWNER)) is None
    assert split_marker(with_marker("", OWNER)) == ("", OWNER)


def test_a_malformed_evaluation_makes_the_marker_unmanaged() -> None:
    text = with_marker("x", OWNER).replace("]", " eval=great/1/zz]")
    assert split_marker(text) == (text, None)


def test_vertex_labels_round_trip() -> None:
    labels = score_labels(SCORES)
    assert labels[L_SCORE] == "8125"
    assert all(v == v.lower() and len(v) <= 63 for v in labels.values())
    assert scores_from(labels) == SCORES
    assert scores_from({**labels, L_SCORE: "12000"}) is None
    assert owner_from(labels) is None  # scores are not ownership
