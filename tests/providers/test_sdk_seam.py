"""One SDK seam: only ``providers/sdk_genai.py`` imports google-genai, only
``providers/sdk_storage.py`` imports google-cloud-storage, and nothing else reaches into
private (``_x``) attributes of other objects (what ruff's SLF001 checks). Imports inside
functions and ``TYPE_CHECKING`` blocks count; the emulator gets no exemption (it imports
neither SDK)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import pytest

from tests import ROOT

PACKAGE = ROOT / "gitops_tune"
GENAI_SEAM = "providers/sdk_genai.py"
STORAGE_SEAM = "providers/sdk_storage.py"
SDKS = {"google.genai": GENAI_SEAM, "google.cloud.storage": STORAGE_SEAM}
# ruff's flake8-self defaults (namedtuple and enum API that merely looks private), and os._exit.
ALLOWED_PRIVATE = {"_make", "_asdict", "_replace", "_fields", "_field_defaults", "_exit"}


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module name an import (or ``__import__``/``import_module`` of a constant) may
    load, with ``from a import b`` also as ``a.b`` (``from google import genai``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0]
            if name in ("__import__", "import_module") and isinstance(first, ast.Constant):
                yield node.lineno, str(first.value)


def private_accesses(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """``x._y`` where ``x`` is not ``self``/``cls``/``super()`` (ruff SLF001's rule)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        attr = node.attr
        if not attr.startswith("_") or attr in ALLOWED_PRIVATE:
            continue
        if attr.endswith("_") and len(attr) > 2:  # dunder and sunder (enum's _name_)
            continue
        base = node.value
        if isinstance(base, ast.Name) and base.id in ("self", "cls", "mcs"):
            continue
        if isinstance(base, ast.Call) and getattr(base.func, "id", "") == "super":
            continue
        yield node.lineno, f"{ast.unparse(base)}.{attr}"


def modules() -> list[tuple[str, ast.AST]]:
    found: list[tuple[str, ast.AST]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        found.append((rel, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))))
    assert len(found) > 20, f"no package at {PACKAGE}?"
    return found


def _is_sdk(name: str, sdk: str) -> bool:
    return name == sdk or name.startswith(sdk + ".")


def test_only_the_seams_import_the_sdks() -> None:
    wrong = [
        f"gitops_tune/{rel}:{line}: imports {name} (only {seam} may)"
        for rel, tree in modules()
        for line, name in imported(tree)
        for sdk, seam in SDKS.items()
        if _is_sdk(name, sdk) and rel != seam
    ]
    assert not wrong, "\n".join(wrong)


def test_no_private_attribute_access_outside_the_genai_seam() -> None:
    wrong = [
        f"gitops_tune/{rel}:{line}: {what}"
        for rel, tree in modules()
        if rel != GENAI_SEAM
        for line, what in private_accesses(tree)
    ]
    assert not wrong, "\n".join(wrong)


def eager(node: ast.AST) -> Iterator[ast.AST]:
    """The statements that run at import: not function bodies, not ``if TYPE_CHECKING``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
            yield from (n for stmt in child.orelse for n in (stmt, *eager(stmt)))
            continue
        yield child
        yield from eager(child)


def eager_imports(tree: ast.AST) -> list[str]:
    return [
        name
        for node in eager(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for _, name in imported(node)
    ]


def test_the_genai_seam_imports_google_genai_on_first_use_only() -> None:
    """Commands that talk to no API (validate, schema) must not pay for google-genai."""
    names = eager_imports(dict(modules())[GENAI_SEAM])
    assert not [n for n in names if _is_sdk(n, "google.genai")], names


def test_the_eager_check_sees_a_top_level_import() -> None:
    source = (
        "if TYPE_CHECKING:\n    import a\nclass C:\n    import google.genai\n"
        "def f():\n    import b\n"
    )
    assert eager_imports(ast.parse(source)) == ["google.genai"]


@pytest.mark.parametrize(
    "source",
    [
        "from google import genai",
        "def f():\n    from google.genai import types",
        "import google.genai.errors",
        "import importlib\nimportlib.import_module('google.genai')",
        "from google.cloud import storage",
        "if TYPE_CHECKING:\n    from google.cloud.storage import Client",
    ],
)
def test_the_import_check_sees_every_form(source: str) -> None:
    names = [name for _, name in imported(ast.parse(source))]
    assert any(_is_sdk(n, sdk) for n in names for sdk in SDKS), names


@pytest.mark.parametrize(
    "source, flagged",
    [
        ("client._api_client.request()", True),
        ("self._client._api_client", True),
        ("self.sdk.tunings._list()", True),
        ("self._client.models", False),
        ("super()._x", False),
        ("point._replace(x=1)", False),
        ("type(e).__name__", False),
    ],
)
def test_the_private_check_matches_slf001(source: str, flagged: bool) -> None:
    assert bool(list(private_accesses(ast.parse(source)))) is flagged
