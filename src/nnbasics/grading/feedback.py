"""The learner's feedback page: nbgrader's feedback HTML for one graded notebook, hidden tests stripped.

The steps are ``pipeline.FEEDBACK``, the ones ``nbgrader generate_feedback`` runs on this course.
"""

import copy
import os
import sys
from pathlib import Path

from .course import run_steps
from .pipeline import FEEDBACK


def write_feedback_html(nb, resources, target):
    """Write nbgrader's feedback page for graded ``nb`` to ``target`` (the stock one shows hidden tests)."""
    from nbconvert.exporters import HTMLExporter

    nb, resources = run_steps(FEEDBACK, copy.deepcopy(nb), resources)
    formgrader = Path(sys.modules["nbgrader"].__file__).parent / "server_extensions" / "formgrader"
    exporter = HTMLExporter(  # configured as nbgrader's GenerateFeedback does
        template_name="feedback",
        extra_template_basedirs=[str(formgrader / "templates")],
        extra_template_paths=[str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css")],
    )
    body, _ = exporter.from_notebook_node(nb, resources)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, target)
