"""Grading: test cases as data, nbgrader pipeline steps, the sandbox and the commands."""

import sys

# jsonschema (via nbformat) imports rfc3987_syntax when installed, which compiles a grammar for a full
# second, only to check IRI formats that notebooks never use; without it jsonschema skips those formats.
if "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None
