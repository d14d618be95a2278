"""Makes the repository root an nbgrader course: sources in solutions/, releases in exercises/.

Instructors run the stock commands from the repository root, e.g.
``nbgrader generate_assignment 01_neuron --force``, ``nbgrader autograde 01_neuron``,
``nbgrader export``. The gradebook (gradebook.db), the log and the submitted/ and
autograded/ folders are local working files and are not committed.

Every path into the gradebook grades through the same sealed, sandboxed pipeline
as ``nnbasics grade`` (``nnbasics.grading.pipeline``): ``nbgrader autograde``,
formgrader's Autograde button and ``nbgrader generate_feedback`` run our step
lists, whose execute step always starts the learner's kernel in the sandbox.
Where nnbasics cannot be imported, those commands refuse in one sentence
instead of running nbgrader's own steps, which execute the hidden tests inside
the learner's kernel (and whose feedback quotes them). nbgrader reads this file
from the folder it is started in: run it from the course root.
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# exercises/ is committed, so a plain `nbgrader generate_assignment <id>` must regenerate it (the output is
# identical) instead of skipping, or the assignment never reaches the gradebook and autograde cannot run.
c.GenerateAssignment.force = True

# What a learner sees in place of a solution (nbgrader's default stub, spelled out).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

try:
    from nnbasics.grading import pipeline
    from nnbasics.grading.limits import Limits, as_config
except Exception as missing:  # nbgrader would log any error here and go on with its own, unsealed steps
    from nbgrader.preprocessors import NbGraderPreprocessor

    _WHY = (
        f"this course grades only through nnbasics' sealed pipeline, which cannot be loaded here ({missing}); "
        "install nnbasics (pip install -e . in the course root) and run the command again"
    )

    class RefuseUnsealed(NbGraderPreprocessor):
        """Stands in for every step when nnbasics is missing: grading or feedback without it would leak or be fooled."""

        def preprocess(self, nb, resources):
            raise RuntimeError(_WHY)

    c.Autograde.sanitize_preprocessors = [RefuseUnsealed]
    c.Autograde.autograde_preprocessors = [RefuseUnsealed]
    c.GenerateFeedback.preprocessors = [RefuseUnsealed]
else:
    # The limits of `nnbasics grade` (per cell, per notebook, memory, output) and the sandboxed kernel manager.
    c.merge(as_config(Limits()))
    c.Autograde.sanitize_preprocessors = pipeline.SANITIZE
    c.Autograde.autograde_preprocessors = pipeline.AUTOGRADE
    # Feedback shows each test's name, points and hint, never a hidden test (nor a traceback quoting one).
    c.GenerateFeedback.preprocessors = pipeline.FEEDBACK
    # and the learner's page of `nnbasics grade --html`: math as MathML, no CDN, the helpers cell folded
    from nnbasics.grading import feedback

    feedback.stock_config(c)
