"""Helpers shared by the test suite, importable as ``testkit`` (pytest puts ``tests/`` on the path).

- ``testkit.notebooks``: notebooks a learner would hand in (released, solved, edited) and small file helpers;
- ``testkit.mutants``: the mutation bank, plausible wrong answers to every graded function;
- ``testkit.wcag``: WCAG 2.1 contrast ratios, for the site's plot colours;
- ``testkit.site``: building the site with mkdocs in a subprocess, and the Chromium used to read it;
- ``testkit.report_class``: the report's synthetic class, whose item analysis is known by construction.
"""
