"""Imported first by the site build and by the grader, to cut seconds off their start-up.

jsonschema (pulled in by nbformat, which mkdocs-jupyter imports) imports the
optional ``rfc3987_syntax`` when it is installed, and that compiles dozens of
grammars at import: 2 to 4 s on this machine, for IRI format checks that no
notebook validation uses. Marking the module as absent makes jsonschema skip
those two checks, as it does on machines without the package. mkdocs.yml
refers to ``ENABLED`` with a ``!!python/name`` tag because YAML tags are
resolved when the file is read, before plugins are imported;
``nnbasics.grading`` imports this module before nbgrader.
"""

import sys

if "jsonschema" not in sys.modules:  # too late to matter otherwise; never undo a real import
    sys.modules.setdefault("rfc3987_syntax", None)

ENABLED = True
