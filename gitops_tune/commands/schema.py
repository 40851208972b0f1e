"""``gitops-tune schema``: print the JSON Schema of manifest documents, or of JSON plans."""

from __future__ import annotations

import json

import click


def run(plan: bool = False) -> int:
    if plan:
        from gitops_tune.plan.schema import plan_schema

        click.echo(json.dumps(plan_schema(), indent=2, sort_keys=True))
        return 0
    from gitops_tune.manifest.schema import schema_text

    click.echo(schema_text(), nl=False)
    return 0
