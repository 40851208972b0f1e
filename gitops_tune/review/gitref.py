"""The repository as it is at a git REF, read with git's plumbing: no checkout, no network.

`GitTree.open(ref, paths)` resolves the repository and the commit once; `changed` lists the
files under the paths that differ between REF and the working tree (tracked files that were
edited, staged, added or deleted, and untracked ones); `materialize` writes one file of REF
into a private temporary directory, read-only, so the ordinary readers can open it, and
nothing else of REF is ever written. Blobs are streamed by one ``git cat-file --batch``
process. Any failure of git (not installed, not a repository, an unknown REF) is one
`UserError`.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from gitops_tune.errors import UserError

_CHUNK = 1 << 20


def _git(cwd: str, *args: str) -> str:
    """Run git and return its stdout; a failure is a `UserError` with git's own words."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, check=False, timeout=300
        )
    except FileNotFoundError:
        raise UserError("--base needs git, and git is not installed (not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"git {args[0]} did not finish in 300 seconds") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(f"git {args[0]}: {said[-1] if said else 'failed'}")
    return done.stdout.decode("utf-8", "surrogateescape")


@dataclass
class GitTree:
    """Files of one commit, beside the working tree of the same repository."""

    ref: str
    commit: str
    top: str  # the working tree's top directory (real path)
    blobs: dict[str, str]  # repository path -> blob id, for the files under the paths
    scratch: str  # the temporary directory files are materialized into
    _batch: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, ref: str, paths: Sequence[str], cwd: str = ".") -> GitTree:
        """REF in the repository that holds ``cwd``; the files of REF under ``paths``."""
        try:
            top = _git(cwd, "rev-parse", "--show-toplevel").strip()
        except UserError as e:
            if "not installed" in str(e):
                raise
            where = os.path.abspath(cwd)
            raise UserError(f"--base {ref}: {where} is not inside a git repository") from None
        if not ref or ref.startswith("-"):
            raise UserError(f"--base {ref!r}: not a git revision")
        try:
            commit = _git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
        except UserError:
            raise UserError(
                f"--base {ref}: no such commit in {top} (fetch it first, e.g. "
                f"`git fetch origin {ref}`)"
            ) from None
        top = os.path.realpath(top)
        scopes = [repo_path(top, p) for p in paths]
        listing = _git(top, "ls-tree", "-r", "-z", "--full-tree", commit, "--", *_specs(scopes))
        blobs: dict[str, str] = {}
        for entry in listing.split("\0"):
            if not entry:
                continue
            meta, path = entry.split("\t", 1)
            _mode, kind, oid = meta.split(" ")
            if kind == "blob":
                blobs[path] = oid
        scratch = tempfile.mkdtemp(prefix="gitops-tune-base-")
        return cls(ref, commit, top, blobs, scratch)

    def changed(self, paths: Sequence[str]) -> set[str]:
        """Repository paths under ``paths`` that differ between REF and the working tree."""
        specs = _specs([repo_path(self.top, p) for p in paths])
        out = _git(self.top, "diff", "--no-renames", "--name-only", "-z", self.commit, "--", *specs)
        untracked = _git(self.top, "ls-files", "--others", "--exclude-standard", "-z", "--", *specs)
        return {p for p in (out + untracked).split("\0") if p}

    def local(self, path: str) -> str:
        """Where the file ``path`` (a repository path) of REF is, or would be, materialized."""
        return os.path.join(self.scratch, *path.split("/"))

    def materialize(self, path: str) -> str | None:
        """Write the file ``path`` of REF into the scratch directory (once, read-only);
        None when REF has no such file."""
        oid = self.blobs.get(path)
        if oid is None:
            return None
        target = self.local(path)
        if os.path.exists(target):
            return target
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            self._stream(oid, out)
        os.chmod(target, stat.S_IRUSR)
        return target

    def _stream(self, oid: str, out: IO[bytes]) -> None:
        if self._batch is None:
            self._batch = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.top,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        batch = self._batch
        assert batch.stdin is not None and batch.stdout is not None
        batch.stdin.write(oid.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) != 3:
            raise UserError(f"git cat-file: cannot read {oid}")
        left = int(header[2])
        while left:
            chunk = batch.stdout.read(min(left, _CHUNK))
            if not chunk:
                raise UserError(f"git cat-file: {oid} ended early")
            out.write(chunk)
            left -= len(chunk)
        batch.stdout.read(1)  # the newline after the contents

    def close(self) -> None:
        if self._batch is not None:
            if self._batch.stdin is not None:
                self._batch.stdin.close()
            self._batch.wait()
            self._batch = None
        for dirpath, _dirs, files in os.walk(self.scratch):
            for name in files:  # read-only files: allow their removal
                os.chmod(os.path.join(dirpath, name), stat.S_IWUSR | stat.S_IRUSR)
        shutil.rmtree(self.scratch, ignore_errors=True)


def repo_path(top: str, path: str) -> str:
    """``path`` (as given on the command line) relative to the repository's top, with '/'."""
    rel = os.path.relpath(os.path.realpath(path), top)
    if rel == os.curdir:
        return ""
    if rel.startswith(os.pardir):
        raise UserError(f"{path}: outside the git repository at {top}")
    return rel.replace(os.sep, "/")


def _specs(scopes: Sequence[str]) -> list[str]:
    """git pathspecs for repository paths ('' is the whole tree)."""
    return [f":(top,literal){s}" if s else ":(top)" for s in scopes]
