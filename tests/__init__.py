"""The test suite mirrors the package: tests/<room>/test_<module>.py; e2e/ and reliability/
drive the whole tool."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository
