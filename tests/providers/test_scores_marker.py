"""An evaluation's outcome in the markers: the Gemini API description, Vertex AI labels."""

from __future__ import annotations

from gitops_tune.providers.base import Owner, Scores
from gitops_tune.providers.gemini import marker_scores, split_marker, with_marker
from gitops_tune.providers.vertex_jobs import (
    L_BEST,
    L_CKPT,
    L_SCORE,
    owner_from,
    score_labels,
    scores_from,
    without_scores,
)

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


def test_a_chosen_checkpoint_round_trips_and_a_new_evaluation_drops_it() -> None:
    chosen = Scores("0123456789ab", 0.9, "passed", ((1, 0.5), (2, 0.9), (10, 0.0)), 2)
    labels = score_labels(chosen)
    assert labels[L_BEST] == "2" and labels[f"{L_CKPT}10"] == "0"
    assert scores_from(labels) == chosen
    assert chosen.best_line() == (
        "checkpoint best = epoch 2 (score 0.9000; epochs: 1=0.5000, 2=0.9000, 10=0.0000)"
    )
    assert scores_from({**labels, L_BEST: "7"}) == Scores("0123456789ab", 0.9, "passed")
    kept = without_scores({**labels, "team": "a"})
    assert L_BEST not in kept and f"{L_CKPT}1" not in kept and kept["team"] == "a"
    assert SCORES.best_line() == ""
