"""Pull-request review: what changed in the data, what is wrong with it, what it will cost.

Computed outside the planner, as desired state is, and attached to the plan for the
renderers (`gitops_tune.render.review`):

- `gitref`: the repository at a git REF, read with git's plumbing (no checkout, no network);
- `base`: each model against its manifest and data at REF (`plan --base REF`);
- `diff`: the examples before and after, compared by per-example hashes;
- `rules`: the data-quality findings (docs/data-quality.md), also run by `validate`;
- `cost`: training tokens and their price (`prices.yaml`, or the user's table);
- `model`: the review as data, and its JSON.
"""

from gitops_tune.review.build import Checked, TokenCounter, build, check
from gitops_tune.review.cost import load_prices
from gitops_tune.review.gitref import GitTree

__all__ = ["Checked", "GitTree", "TokenCounter", "build", "check", "load_prices"]
