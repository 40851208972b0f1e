"""What retiring each model a change deletes does on the backend, attached to the change so
the plan says it in advance (e.g. Vertex AI: undeploy, delete the endpoint, delete the model,
and when Vertex AI refuses, label it retired), not only as a note once apply has done it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gitops_tune.plan.model import Action, Change, Retiring
from gitops_tune.providers.base import RemoteModel

#: Actions that delete the model they act on (a recreate deletes the failed one first).
_DELETES_REMOTE = (Action.DELETE, Action.CANCEL, Action.RECREATE)


def with_retirements(changes: list[Change], observed: Sequence[RemoteModel]) -> list[Change]:
    """Each change with the retirements of the models it deletes now (``remote``) or once its
    replacement is ACTIVE (``superseded``); models a plain delete retires are left out."""
    known = {m.id: m.retirement for m in observed if m.retirement is not None}
    out = []
    for c in changes:
        ids = [c.remote] if c.action in _DELETES_REMOTE and c.remote else []
        ids += [i for i in c.superseded if i not in ids]
        found = tuple(Retiring(i, r) for i in ids if (r := known.get(i)) is not None)
        out.append(replace(c, retirements=found) if found else c)
    return out
