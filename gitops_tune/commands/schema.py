"""``gitops-tune schema``: print the JSON Schema of manifest documents."""

from __future__ import annotations

import click


def run() -> int:
    from gitops_tune.manifest.models import schema_text

    click.echo(schema_text(), nl=False)
    return 0
