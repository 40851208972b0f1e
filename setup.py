"""The one part of the build that pyproject.toml cannot declare without an experimental table:
tier 0 of the JSONL scan as a C extension, optional (without a C compiler the install goes on
and `gitops_tune/dataset/layout.py` runs the same checks in Python)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "gitops_tune.dataset._layout",
            sources=["gitops_tune/dataset/_layout.c"],
            optional=True,
        )
    ]
)
