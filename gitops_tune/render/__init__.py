"""Showing things, never deciding them: the plan as text, markdown or JSON (``plan``), apply's
progress (``progress``), the loss curve as a terminal chart (``loss``) or a PNG (``plot``).

This face only re-exports the plan renderers, so ``render.render(plan, fmt)`` keeps working.
"""

from gitops_tune.render.plan import (
    MARKDOWN_MARKER,
    SYMBOLS,
    markdown,
    render,
    summary_line,
    text,
    to_json,
)

__all__ = ["MARKDOWN_MARKER", "SYMBOLS", "markdown", "render", "summary_line", "text", "to_json"]
