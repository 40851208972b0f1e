"""The `gitops-tune` command line (`main`); see `gitops_tune.cli.main`."""

from gitops_tune.cli.main import main

__all__ = ["main"]
