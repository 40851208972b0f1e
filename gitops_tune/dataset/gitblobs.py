"""The git blob IDs of data files that a checkout knows are unchanged: a content key for the
fingerprint cache without reading the files (a CI run's fresh clone restores the cache and
would otherwise hash every data file).

A file gets its blob ID only when git vouches for its bytes: it is tracked at stage 0 as a
regular file, neither assume-unchanged nor skip-worktree (``git ls-files -s -v`` tags it
``H``), ``git diff-files`` does not list it (its ``stat`` matches the index, or its content
does where the ``stat`` is racy), and the blob's size is the file's (a clean/smudge filter or
an end-of-line conversion makes the checked-out bytes differ from the blob's). Anything else,
no git, no repository, or a git that fails, is hashed as before. The caller takes each file's
``stat`` before asking and checks it again after the scan, so a file that changes meanwhile
is never stored under the ID.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

PREFIX = "git-blob:"  # a key of its own: never equal to a sha256 of raw bytes
_REGULAR = ("100644", "100755")


def blob_ids(sizes: Mapping[str, int]) -> dict[str, str]:
    """Resolved path -> ``git-blob:<id>`` for the files of ``sizes`` (resolved path -> size
    now) that git vouches for; the others are left out."""
    if not sizes:
        return {}
    try:
        common = os.path.commonpath([os.path.dirname(p) for p in sizes])
        top = os.path.realpath(_git(common, "rev-parse", "--show-toplevel").strip())
        scope = os.path.relpath(common, top)
        if scope.startswith(os.pardir):
            return {}
        staged = _staged(_git(top, "ls-files", "-z", "-s", "-v", "--", scope))
        changed = set(_git(top, "diff-files", "-z", "--name-only", "--", scope).split("\0"))
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}
    wanted = {}
    for path, size in sizes.items():
        rel = os.path.relpath(path, top).replace(os.sep, "/")
        oid = staged.get(rel)
        if oid is not None and rel not in changed:
            wanted[oid] = (path, size)
    try:
        blob_sizes = _sizes(top, list(wanted))
    except (OSError, subprocess.SubprocessError):
        return {}
    return {
        path: PREFIX + oid for oid, (path, size) in wanted.items() if blob_sizes.get(oid) == size
    }


def _staged(listing: str) -> dict[str, str]:
    """``ls-files -s -v`` -> path -> blob ID, for plain tracked regular files only."""
    found = {}
    for entry in listing.split("\0"):
        head, _, path = entry.partition("\t")
        parts = head.split(" ")
        if len(parts) == 4 and parts[0] == "H" and parts[1] in _REGULAR and parts[3] == "0":
            found[path] = parts[2]
    return found


def _sizes(top: str, oids: list[str]) -> dict[str, int]:
    if not oids:
        return {}
    out = _git(top, "cat-file", "--batch-check=%(objectname) %(objectsize)", stdin="\n".join(oids))
    sizes = {}
    for line in out.splitlines():
        oid, _, size = line.partition(" ")
        if size.isdigit():
            sizes[oid] = int(size)
    return sizes


def _git(where: str, *args: str, stdin: str | None = None) -> str:
    run = subprocess.run(
        ["git", "-C", where, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return run.stdout
