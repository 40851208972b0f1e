"""Documents and data -> desired state (see `load`)."""

from gitops_tune.desired.load import collect, load
from gitops_tune.desired.state import DesiredModel, DesiredState, RemoteHashes

__all__ = ["DesiredModel", "DesiredState", "RemoteHashes", "collect", "load"]
