"""Feedback never shows a hidden test or an expected answer, and still names each test, its points and hint.

The needles come straight from solutions/: every non-trivial line between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` (stripped, 10+
characters, not also in the released notebook) and every expected quiz answer
(``Choice("b")``). They are searched in the text of every feedback page, as a
browser shows it: from ``grade-class --feedback``, from ``nbgrader
generate_feedback`` on what grade-class graded, and from generate_feedback on
notebooks graded by plain nbgrader, whose tracebacks quote the hidden tests.
"""

import shutil

import nbformat
import pytest
from testkit import classroom

from nnbasics.assignments import ASSIGNMENTS
from nnbasics.grading import results

LEGACY_CONFIG = """c = get_config()
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.GenerateAssignment.force = True
"""


@pytest.fixture(scope="session")
def graded(tmp_path_factory, run):
    return classroom.graded_class(tmp_path_factory, run)


def pages(folder):
    return sorted(folder.glob("feedback/*/*/*.html"))


def assert_no_leak(found):
    files, needles, lines, hits = found
    print(f"leak search: {files} files, {lines} page lines, {needles} hidden lines and quiz answers, {len(hits)} hits")
    assert files and needles > 400
    assert not hits, hits[:10]


def test_the_needles_are_found_where_they_are(graded):
    """The search finds hidden lines where they are shown: in the autograded notebook an instructor reads."""
    root, _ = graded
    nb = nbformat.read(root / "autograded" / "wrong" / "03_initialization" / "03_initialization.ipynb", as_version=4)
    text = " ".join("\n".join(c.source for c in nb.cells).split())
    assert sum(n in text for n in classroom.hidden_lines()) > 20


def test_the_search_reads_a_page_as_beautifulsoup_does(graded):
    """The leak search's own reading of a page gives BeautifulSoup's text: entities decoded, no styles."""
    from bs4 import BeautifulSoup

    root, _ = graded
    page = root / "feedback" / "wrong" / "03_initialization" / "03_initialization.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert soup.find("style") and "&lt;" in page.read_text(encoding="utf-8")
    assert classroom.page_text(page) == " ".join(soup.get_text().split())


def test_grade_class_feedback_shows_no_hidden_test(graded):
    root, _ = graded
    found = pages(root)
    students = set(classroom.FULL) | {"attacker", "crashed"}
    assert {(p.parts[-3], p.parts[-2]) for p in found} == {
        (s, a) for s in students for a in (ASSIGNMENTS if s in classroom.FULL else ASSIGNMENTS[:1])
    }
    assert_no_leak(classroom.leaks(found))


def test_feedback_names_each_test_with_its_points_and_hint(graded):
    root, _ = graded
    journal = results.load(root)
    for student in ("wrong", "quizblank"):
        for a in ASSIGNMENTS:
            text = classroom.page_text(root / "feedback" / student / a / f"{a}.html")
            for test in journal[student, a]["entry"]["tests"]:
                mark = f"{test['grade_id']}: {test['score']:g} / {test['max_score']:g} points"
                assert mark in text, (student, a, mark)
                if not test["passed"]:  # the failure and the hint the test gives for it
                    assert " ".join(test["feedback"].split()) in text, (student, a, test)


def test_nbgrader_generate_feedback_on_grade_class_output_shows_no_hidden_test(graded, tmp_path):
    root = classroom.as_nbgrader_course(classroom.copy_course(graded[0], tmp_path / "course"))
    shutil.rmtree(root / "feedback")
    for a in ASSIGNMENTS:
        done = classroom.nbgrader(root, "generate_feedback", a)
        assert done.returncode == 0, done.stderr[-3000:]
    assert len(pages(root)) == len(pages(graded[0]))
    assert_no_leak(classroom.leaks(pages(root)))


def test_generate_feedback_strips_plain_nbgraders_tracebacks(tmp_path):
    """Notebooks autograded by stock nbgrader (tests run in the kernel) quote hidden tests in their tracebacks."""
    root = tmp_path / "course"
    root.mkdir()
    classroom.as_nbgrader_course(root)
    (root / "nbgrader_config.py").write_text(LEGACY_CONFIG)  # as a course without nnbasics' configuration
    assert classroom.nbgrader(root, "generate_assignment", "01_neuron").returncode == 0
    classroom.write(classroom.wrong("01_neuron"), root / "submitted" / "wrong" / "01_neuron" / "01_neuron.ipynb")
    classroom.write(classroom.quiz_blank("01_neuron"), root / "submitted" / "blank" / "01_neuron" / "01_neuron.ipynb")
    assert classroom.nbgrader(root, "autograde", "01_neuron").returncode == 0
    assert classroom.nbgrader(root, "generate_feedback", "01_neuron").returncode == 0
    before = classroom.leaks(pages(root))
    print(f"leak search, plain nbgrader's own feedback: {before[0]} files, {len(before[3])} hits")
    assert before[3], "plain nbgrader's feedback should have quoted hidden tests"  # what this course prevents
    shutil.copy(classroom.REPO / "nbgrader_config.py", root)
    done = classroom.nbgrader(root, "generate_feedback", "01_neuron", "--force")
    assert done.returncode == 0, done.stderr[-3000:]
    assert_no_leak(classroom.leaks(pages(root)))
    text = classroom.page_text(root / "feedback" / "wrong" / "01_neuron" / "01_neuron.html")
    assert "test_sigmoid: 0 / 2 points" in text and "exp(-|z|)" in text  # name, points, hint stay
