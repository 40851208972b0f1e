"""Training data: reading sources, the preamble rule, limits, fingerprint. (Contract stub.)"""

from __future__ import annotations

from typing import NamedTuple


class Example(NamedTuple):
    """One single-turn training pair, the preamble already prepended to ``text_input``."""

    text_input: str
    output: str
