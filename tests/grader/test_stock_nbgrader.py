"""Stock ``nbgrader autograde`` on this course grades through the sealed, sandboxed pipeline, or refuses.

The course is set up as an instructor sets up any nbgrader course: the
repository's nbgrader_config.py, solutions/ and exercises/, then ``nbgrader
generate_assignment`` and ``nbgrader autograde``. An answer that patches
numpy's comparisons (which fools plain nbgrader, see test_attacks.py) scores
0 on the test it attacks; the notes of the sanitize pass reach the gradebook;
where the sealed pipeline cannot run (nnbasics not importable, a gradebook
holding another version of the course) the command refuses instead of
grading, and the authoring command brings the gradebook up to date.
"""

import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook
from testkit import classroom
from testkit.notebooks import cell_index, solved, write

from nnbasics._env import with_scripts_on_path
from nnbasics.grading import authoring
from nnbasics.grading.gradebook import points

TRANSFORMER = "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"
REFUSED = "this course grades only through nnbasics' sealed pipeline"


def submission(name):
    if name == "honest":
        return solved("01_neuron")
    if name == "patch_numpy":
        return classroom.attacked()
    nb = solved("01_neuron", {"sigmoid": classroom.WRONG_SIGMOID})
    if name == "transformer":
        nb.cells.insert(cell_index(nb, "sigmoid") + 1, nbformat.v4.new_code_cell(TRANSFORMER))
    if name == "editor":  # edits a locked test cell: restored, and the learner is told
        nb = solved("01_neuron")
        nb.cells[cell_index(nb, "test_relu")].source += "\nprint('my own test')"
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = classroom.as_nbgrader_course(tmp_path_factory.mktemp("stock course"))
    done = classroom.nbgrader(root, "generate_assignment", "01_neuron")
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("honest", "patch_numpy", "transformer", "editor"):
        write(submission(name), root / "submitted" / name / "01_neuron" / "01_neuron.ipynb")
    done = classroom.nbgrader(root, "autograde", "01_neuron")
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def grades(root, student):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook("01_neuron", "01_neuron", student)
        return {g.name: g.score for g in nb.grades}, {c.name: c.comment for c in nb.comments}


def test_stock_autograde_grades_outside_the_kernel(course):
    full = points("01_neuron")
    honest, _ = grades(course, "honest")
    assert honest == full
    for attack in ("patch_numpy", "transformer"):  # the transformer also blanks the attacker's later answers
        scores, comments = grades(course, attack)
        assert scores["test_sigmoid"] == 0, attack
        assert sum(scores.values()) <= sum(full.values()) - full["test_sigmoid"], (attack, scores)
        assert comments["sigmoid"]  # the verdict, where formgrader and the feedback show it
    scores, _ = grades(course, "patch_numpy")
    assert sum(scores.values()) == sum(full.values()) - full["test_sigmoid"]  # nothing else lost or gained


def test_the_sanitize_notes_cross_to_the_gradebook(course):
    scores, comments = grades(course, "editor")
    assert scores == points("01_neuron")
    assert "locked cell test_relu had been edited" in comments["relu"]
    nb = nbformat.read(course / "autograded" / "editor" / "01_neuron" / "01_neuron.ipynb", as_version=4)
    assert "nnbasics" not in nb.metadata  # carried across the passes, then removed


def test_stock_feedback_shows_no_hidden_test(course):
    done = classroom.nbgrader(course, "generate_feedback", "01_neuron")
    assert done.returncode == 0, done.stderr[-3000:]
    files, needles, lines, hits = classroom.leaks(sorted(course.glob("feedback/*/*/*.html")))
    print(f"leak search (stock autograde + generate_feedback): {files} files, {lines} page lines, {needles} needles")
    assert files == 4 and needles > 400 and not hits, hits[:5]
    for page in course.glob("feedback/*/*/*.html"):  # offline, as `nnbasics grade --html`: nothing from a CDN
        html = page.read_text(encoding="utf-8")
        assert "<math" in html and "nnbasics-helpers" in html, page
        assert not re.findall(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=[\"']?(?:https?:)?//", html), page


def nbgrader_without_nnbasics(root, *args):
    """``nbgrader ARGS`` in a Python where ``import nnbasics`` fails (as on a machine without it)."""
    code = (
        "import runpy, sys\nsys.modules['nnbasics'] = None\n"
        f"sys.argv = ['nbgrader', *{list(args)!r}]\nrunpy.run_module('nbgrader', run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=with_scripts_on_path(), capture_output=True, text=True, timeout=300
    )


def test_without_nnbasics_stock_commands_refuse(course, tmp_path):
    root = shutil.copytree(course, tmp_path / "course")
    write(classroom.attacked(), root / "submitted" / "late" / "01_neuron" / "01_neuron.ipynb")
    done = nbgrader_without_nnbasics(root, "autograde", "01_neuron", "--student", "late")
    assert done.returncode != 0 and REFUSED in done.stdout + done.stderr
    assert not (root / "autograded" / "late").exists()
    scores, _ = grades(root, "late")
    assert all(s == 0 for s in scores.values())  # nothing was scored (nbgrader shows an unscored cell as 0)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook("01_neuron", "01_neuron", "late")
        assert all(g.auto_score is None for g in nb.grades)
    done = nbgrader_without_nnbasics(root, "generate_feedback", "01_neuron", "--force")
    assert done.returncode != 0 and REFUSED in done.stdout + done.stderr
    assert not list(root.glob("feedback/*/*/*.html"))


def test_a_stale_gradebook_is_refused_and_the_authoring_command_refreshes_it(course, tmp_path):
    root = shutil.copytree(course, tmp_path / "course")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        cell = gb.find_source_cell("test_sigmoid", "01_neuron", "01_neuron")
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]  # as before a hidden test was added
        gb.find_grade_cell("test_relu", "01_neuron", "01_neuron").max_score = 5.0  # as before points changed
        gb.db.commit()
    done = classroom.nbgrader(root, "autograde", "01_neuron", "--force", "--student", "honest")
    assert done.returncode != 0
    assert "the gradebook's copy of 01_neuron differs from the hidden tests" in done.stdout + done.stderr
    assert "test_relu, test_sigmoid" in done.stdout + done.stderr
    assert authoring.refresh_gradebook(root) == {}
    done = classroom.nbgrader(root, "autograde", "01_neuron", "--force", "--student", "honest")
    assert done.returncode == 0, done.stderr[-3000:]
    assert grades(root, "honest")[0] == points("01_neuron")
