"""Ownership: models gitops-tune does not own are never modified.

The emulator holds unmanaged models, models of other workspaces (with the same names), and
models whose marker is malformed or tampered with (not last, wrong case, short fingerprint,
missing bracket, extra field, doubled space, a prefix of the workspace name). plan, apply
(creates, replaces, deletes, cancels), destroy and import run around them; every one of them
is byte-for-byte unchanged afterwards and no mutating request names them. A model squatting on
a deterministic ID is refused, not adopted.
"""

from __future__ import annotations

from gitops_tune.desired import load
from gitops_tune.emulator.server import RunningEmulator
from gitops_tune.plan import tuned_model_id
from gitops_tune.settings import Invocation
from tests.harness import all_models
from tests.reliability.conftest import (
    Repo,
    assert_converged,
    create_raw,
    foreign_now,
    seed_bystanders,
    wait_active,
)

NAMES = ["alpha", "beta"]


def test_unmanaged_foreign_and_tampered_models_are_never_modified(
    repo: Repo, emulator: RunningEmulator
) -> None:
    untouched = seed_bystanders(repo.url, repo.workspace, NAMES)
    for name in NAMES:
        repo.write(name)
    assert repo.cli("plan").exit_code == 0
    assert "tunedModels/unmanaged" not in repo.cli("plan").output
    result = repo.apply()  # creates
    assert result.exit_code == 0, result.output
    repo.write("alpha", hyperparameters={"epochCount": 3})  # cancel + create
    repo.remove("beta")  # cancel
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert_converged(repo, untouched)
    repo.write("alpha", hyperparameters={"epochCount": 4})  # replace, retire once ACTIVE
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert_converged(repo, untouched)

    # import refuses other workspaces' models and damaged markers; it changes none of them.
    # (Importing a truly unmanaged model is import's purpose: adopting it is the one change.)
    repo.write("gamma")  # declared, not applied: import may adopt a model for it
    refused = 0
    for model_id, model in untouched.items():
        if "[gitops-tune" not in model.get("description", ""):
            continue
        result = repo.cli("import", "gamma", model_id, str(repo.root))
        assert result.exit_code == 1, (model_id, result.output)
        assert "refusing to take it over" in result.output, result.output
        refused += 1
    assert refused >= 8
    assert foreign_now(repo.url, untouched) == untouched
    repo.remove("gamma")

    result = repo.cli("destroy", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert {m["name"] for m in all_models(repo.url)} == set(untouched)
    assert foreign_now(repo.url, untouched) == untouched


def test_a_model_squatting_on_a_deterministic_id_is_refused_not_adopted(
    repo: Repo, emulator: RunningEmulator
) -> None:
    repo.write("alpha")
    (d,) = load([str(repo.root)], Invocation(backend="gemini")).models
    squatter = tuned_model_id(repo.workspace, "alpha", d.fingerprint)
    create_raw(repo.url, squatter, "mine, not yours")
    wait_active(repo.url)
    before = all_models(repo.url)
    result = repo.apply("--wait")
    assert result.exit_code == 1
    assert "refusing to adopt it" in result.output and "rerun apply" in result.output.lower()
    assert "Traceback" not in result.output
    assert all_models(repo.url) == before
