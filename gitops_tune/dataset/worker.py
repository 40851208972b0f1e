"""A scan worker process (see `gitops_tune.dataset.batch`): reads pickled `ScanJob` values on
standard input, writes their `Scan` results, in order, pickled on standard output."""

from __future__ import annotations

import pickle
import sys


def main() -> None:
    jobs = pickle.load(sys.stdin.buffer)
    results = [job.run() for job in jobs]
    sys.stdout.buffer.write(pickle.dumps(results))
    sys.stdout.buffer.flush()
