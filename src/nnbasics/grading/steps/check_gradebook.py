"""``CheckGradebook``: refuse to grade against a gradebook whose copy of the course is not the one we grade with.

Stock ``nbgrader autograde`` restores the locked cells from the gradebook and
scores each test out of the points recorded there; ``SealTests`` takes the
hidden tests from the course's source notebooks. When the two differ (the
gradebook predates an edit of ``solutions/``), the scores would mix two
versions of the course, so this step, first of the sanitize pass, stops
before anything runs and says what to do, in one sentence.
"""

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from ...assignments import ASSIGNMENTS
from ..material import gradebook_differences


class StaleGradebook(Exception):
    """The gradebook holds another version of the assignment; the message says which cells and what to run."""


class CheckGradebook(NbGraderPreprocessor):
    """Stop with ``StaleGradebook`` when the gradebook's cells of this assignment are not the source's."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        assignment = info["assignment"]
        if assignment not in ASSIGNMENTS:
            return nb, resources  # not one of ours: the steps after this one say so
        with Gradebook(info["db_url"]) as gb:
            stale = gradebook_differences(gb, assignment)
        if stale:
            raise StaleGradebook(
                f"the gradebook's copy of {assignment} differs from the hidden tests nnbasics grades with "
                f"({', '.join(stale[:4])}{', ...' if len(stale) > 4 else ''}), so nothing was graded: run "
                f"`python -m nnbasics.grading.authoring` (or `nbgrader generate_assignment {assignment}`) first"
            )
        return nb, resources
