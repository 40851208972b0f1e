"""The content key's hash: BLAKE3 of a data file's raw bytes (`gitops_tune.dataset.cache`).

Every first scan hashes each file's bytes besides parsing them, and a fresh clone with a
restored cache hashes every file, so this hash is on the path CI runs. BLAKE3 (the `blake3`
package) is a cryptographic hash like sha256, and hashes these files at about twice
OpenSSL's sha256 where the CPU has SHA instructions (``bench/_baselines.py``), more where it
has not. The fingerprint itself stays sha256 (`gitops_tune.dataset.fingerprints`).
"""

from __future__ import annotations

import threading

from blake3 import blake3 as content_hash

__all__ = ["BLOCK_BYTES", "content_hash", "file_digest"]

BLOCK_BYTES = 1 << 20
_buffers = threading.local()


def file_digest(path: str) -> str:
    """The file's content hash, hex (read in 1 MiB blocks, into one buffer per thread: a new
    one for each file would be zeroed and faulted in every time)."""
    digest = content_hash()
    view: memoryview | None = getattr(_buffers, "view", None)
    if view is None:
        view = _buffers.view = memoryview(bytearray(BLOCK_BYTES))
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(view):
            digest.update(view[:n])
    return digest.hexdigest()
