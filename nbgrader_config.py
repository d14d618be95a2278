"""Makes the repository root an nbgrader course: sources in solutions/, releases in exercises/.

Instructors run the stock commands from the repository root, e.g.
``nbgrader generate_assignment 01_neuron --force``, ``nbgrader autograde 01_neuron``,
``nbgrader export``. The gradebook (gradebook.db), the log and the submitted/ and
autograded/ folders are local working files and are not committed.
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# exercises/ is committed, so a plain `nbgrader generate_assignment <id>` must regenerate it (the output is
# identical) instead of skipping, or the assignment never reaches the gradebook and autograde cannot run.
c.GenerateAssignment.force = True

# Every graded cell must finish within this many seconds (the tests take well under one).
c.Execute.timeout = 60

# What a learner sees in place of a solution (nbgrader's default stub, spelled out).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Feedback must not reveal the hidden tests (the gradebook stores test cells with them).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
