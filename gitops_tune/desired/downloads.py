"""``gs://`` objects desired state reads in full (a ``gs://`` evaluation set; a ``gs://``
validation set, counted against its base model's limit), kept under the tool's home folder.

An object whose content hashes are known (``crc32c``, ``md5Hash``, as the storage API reports
them in the metadata GET that fingerprints it) is kept under a name made of its URI and those
hashes: the next plan finds the file and downloads nothing, and an object rewritten with new
content gets a new name. Without hashes the file is named by its own content, so a download
happens each time but the file is written once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from gitops_tune.desired.state import RemoteRead
from gitops_tune.providers.base import ProviderError

#: The metadata that says an object's content has not changed.
CONTENT_KEYS = ("crc32c", "md5Hash")


def kept(
    uri: str, read: RemoteRead, folder: Path, hashes: Mapping[str, str] | None = None
) -> Path | str:
    """The object's bytes in a file under ``folder`` (its suffix kept, for the readers that
    go by it), or what went wrong, as one message."""
    suffix = PurePosixPath(uri).suffix
    known = {k: hashes[k] for k in CONTENT_KEYS if hashes and hashes.get(k)}
    if known:
        line = json.dumps({"uri": uri, **known}, sort_keys=True)
        path = folder / (hashlib.sha256(line.encode()).hexdigest()[:24] + suffix)
        if path.is_file():
            return path
    try:
        data = read(uri)
    except ProviderError as err:
        return f"cannot read {uri}: {err}"
    if data is None:
        return f"no such object: {uri}"
    if not known:
        path = folder / (hashlib.sha256(data).hexdigest()[:24] + suffix)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            partial.write_bytes(data)
            partial.replace(path)  # whole or not at all: a crash leaves no half file
    except OSError as err:
        return f"cannot keep {uri} in {folder}: {err.strerror or err}"
    return path
