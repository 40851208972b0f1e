"""Training data: reading sources, the preamble rule, limits and the fingerprint.

Every source is read as a stream of *items*: a `Row` (one raw example and where it was
written) or a `Diagnostic` (a problem the reader found, e.g. a JSONL line that is not JSON).
`scan` checks the rows against the limits of Google's "Fine-tuning with the Gemini API"
guide and hashes them as it goes; `stream` re-reads the same source at create time and
yields `Example` values. Nothing here holds a whole dataset in memory, except a ``.json``
array, which is parsed whole.

- `records`: the shared values (`Example`, `Row`, `Source`, `Scan`, `DatasetError`);
- `chat`: the Gemini chat format (`Conversation`: systemInstruction, turns, media parts);
- `tuning_limits`: each base model's documented limits (`tuning_limits.yaml`);
- `readers`: JSONL, JSON and CSV files as items, and the sources over them;
- `checks`: per-example rules and dataset limits (and the preamble rule);
- `fingerprints`: canonical hyperparameters and the fingerprint / request size;
- `scanner`: `scan` and `stream`, with the fast JSONL path;
- `cache`: the fingerprint cache `scan` consults, keyed by content (`cache_files`: its files;
  `digests`: the content hash);
- `layout`: the JSONL scan's tier 0, a block already almost its fingerprint lines;
- `fastpath`: the JSONL scan's tier 1, a block of valid examples checked in C (msgspec);
- `worker`: one file's scan as a worker process runs it (`ScanJob`);
- `batch`: many files scanned at once, on every core.
- `heap`: a scanning process keeps the blocks it frees for the next file (glibc).

This face only re-exports.
"""

from gitops_tune.dataset.batch import Scans
from gitops_tune.dataset.cache import ScanCache
from gitops_tune.dataset.chat import Conversation, Media
from gitops_tune.dataset.checks import (
    INPUT_LIMIT,
    MAX_DATASET_BYTES,
    MAX_ROW_ERRORS,
    MIN_EXAMPLES,
    OUTPUT_LIMIT,
    RECOMMENDATIONS,
    RECOMMENDED_EXAMPLES,
    limits,
)
from gitops_tune.dataset.fingerprints import (
    DEFAULT_HYPERPARAMETERS,
    FINGERPRINT_FORMAT,
    Fingerprinter,
    canonical_hyperparameters,
    fingerprint,
    short_fingerprint,
)
from gitops_tune.dataset.readers import (
    MAX_JSON_FILE_BYTES,
    decode_utf8,
    file_source,
    inline_source,
    read_csv,
    read_file,
    read_json,
    read_jsonl,
)
from gitops_tune.dataset.records import (
    SUFFIXES,
    DatasetError,
    Example,
    Item,
    Record,
    Row,
    Scan,
    Source,
)
from gitops_tune.dataset.scanner import scan, stream
from gitops_tune.dataset.worker import ScanJob

__all__ = [
    "DEFAULT_HYPERPARAMETERS",
    "FINGERPRINT_FORMAT",
    "INPUT_LIMIT",
    "MAX_DATASET_BYTES",
    "MAX_JSON_FILE_BYTES",
    "MAX_ROW_ERRORS",
    "MIN_EXAMPLES",
    "OUTPUT_LIMIT",
    "RECOMMENDATIONS",
    "RECOMMENDED_EXAMPLES",
    "SUFFIXES",
    "Conversation",
    "DatasetError",
    "Example",
    "Fingerprinter",
    "Item",
    "Media",
    "Record",
    "Row",
    "Scan",
    "ScanCache",
    "ScanJob",
    "Scans",
    "Source",
    "canonical_hyperparameters",
    "decode_utf8",
    "file_source",
    "fingerprint",
    "inline_source",
    "limits",
    "read_csv",
    "read_file",
    "read_json",
    "read_jsonl",
    "scan",
    "short_fingerprint",
    "stream",
]
