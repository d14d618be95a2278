"""Grading: test cases as data, nbgrader pipeline steps, the sandbox and the commands."""

from .. import _fast_imports  # noqa: F401  (before nbformat/jsonschema: skips a 1-4 s optional import)
