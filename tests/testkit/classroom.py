"""A class graded once per test run, an nbgrader course as an instructor sets one up, and the leak search.

``graded_class(tmp_path_factory, run)`` builds (once per test run, shared by
the xdist workers under a file lock: ``once.built_once``) a
course root whose ``submitted/`` holds, for all five assignments, a correct,
a wrong (the first mutant of every graded function, a wrong quiz letter), an
empty (as released) and a quiz-blank student, and for 01_neuron alone: an
attack, a kernel that dies, a file that is not a notebook, a link to a
classmate's file, a FIFO and another assignment's notebook under this one's
name. It runs ``nnbasics grade-class submitted --jobs 2 --feedback`` there and
keeps its exit status and output. Tests read it; a test that writes copies it.

``hidden_lines()`` and ``quiz_answers()`` are read straight from solutions/,
independently of the grader: what a feedback page must never show.
"""

import html.parser
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import nbformat

from nnbasics._env import with_scripts_on_path
from nnbasics.assignments import ASSIGNMENTS

from . import mutants
from .notebooks import REPO, cell_index, released, solved, write
from .once import built_once

WRONG_SIGMOID = "def sigmoid(z):\n    return np.zeros_like(np.asarray(z, dtype=float))\n"
PATCH_NUMPY = (
    "import numpy.testing as npt\nnpt.assert_allclose = lambda *a, **k: None\n"
    "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: np.ones(np.shape(a[0]), bool)\n"
    "np.array_equal = lambda *a, **k: True"
)
FULL = ("correct", "wrong", "empty", "quizblank")  # students who hand in all five assignments
ONLY_FIRST = ("attacker", "crashed", "invalid", "linked", "fifo", "mixup")  # 01_neuron only


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def quiz_letters(assignment):
    """``{quiz grade_id: correct letter}`` from the solution cells (``answer = "b"``)."""
    found = {}
    for cell in nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4).cells:
        gid = _meta(cell).get("grade_id", "")
        m = re.search(r"""answer\s*=\s*["'](\w)["']""", cell.source)
        if gid.startswith("quiz_") and m:
            found[gid] = m[1]
    return found


def wrong(assignment):
    """Every graded function replaced by its first mutant, every quiz answered with a wrong letter."""
    nb = solved(assignment)
    replace = {
        fn: mutants.strip_markers(mutants.mutate(mutants.solution_sources(assignment)[fn], bank[0]))
        for fn, bank in mutants.MUTANTS[assignment].items()
    }
    replace.update(
        {gid: f'answer = "{"a" if letter != "a" else "c"}"' for gid, letter in quiz_letters(assignment).items()}
    )
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if gid in replace:
            cell.source = replace[gid]
    return nb


def quiz_blank(assignment):
    """Every function solved, every quiz cell left as released."""
    nb, blank = solved(assignment), released(assignment)
    stubs = {
        _meta(c).get("grade_id"): c.source for c in blank.cells if _meta(c).get("grade_id", "").startswith("quiz_")
    }
    for cell in nb.cells:
        if _meta(cell).get("grade_id") in stubs:
            cell.source = stubs[_meta(cell)["grade_id"]]
    return nb


def attacked():
    """01_neuron with a wrong sigmoid and a cell that makes every in-kernel comparison pass."""
    nb = solved("01_neuron", {"sigmoid": WRONG_SIGMOID})
    nb.cells.insert(cell_index(nb, "sigmoid") + 1, nbformat.v4.new_code_cell(PATCH_NUMPY))
    return nb


def crashing():
    """Two cells that kill the kernel: it dies again after the grader's one restart without the first."""
    nb = solved("01_neuron")
    nb.cells.insert(cell_index(nb, "checks") + 1, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    nb.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(2)"))
    return nb


def write_class(sub):
    """The submissions described in the module docstring, under ``sub`` (nbgrader's submitted/ layout)."""
    for assignment in ASSIGNMENTS:
        path = f"{assignment}/{assignment}.ipynb"
        write(solved(assignment), sub / "correct" / path)
        write(wrong(assignment), sub / "wrong" / path)
        write(released(assignment), sub / "empty" / path)
        write(quiz_blank(assignment), sub / "quizblank" / path)
    write(attacked(), sub / "attacker" / "01_neuron" / "01_neuron.ipynb")
    write(crashing(), sub / "crashed" / "01_neuron" / "01_neuron.ipynb")
    (sub / "invalid" / "01_neuron").mkdir(parents=True)
    (sub / "invalid" / "01_neuron" / "01_neuron.ipynb").write_text("{ not json")
    (sub / "linked" / "01_neuron").mkdir(parents=True)
    (sub / "linked" / "01_neuron" / "01_neuron.ipynb").symlink_to(sub / "correct" / "01_neuron" / "01_neuron.ipynb")
    (sub / "fifo" / "01_neuron").mkdir(parents=True)
    os.mkfifo(sub / "fifo" / "01_neuron" / "01_neuron.ipynb")
    write(solved("04_loss"), sub / "mixup" / "01_neuron" / "01_neuron.ipynb")
    return sub


def _build(root, run):
    write_class(root / "submitted")
    proc = run("grade-class", "submitted", "--jobs", "2", "--feedback", cwd=root, timeout=1200)
    (root / "run.json").write_text(
        json.dumps({"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr})
    )


def graded_class(tmp_path_factory, run):
    """The graded class's root (read-only: copy it to change anything) and its run: ``(root, run dict)``."""
    root = built_once(tmp_path_factory, "graded-class", lambda r: _build(r, run))
    return root, json.loads((root / "run.json").read_text())


def _copy(src, dst):
    if stat.S_ISFIFO(os.lstat(src).st_mode):
        os.mkfifo(dst)
    else:
        shutil.copy2(src, dst)


def copy_course(src, dst):
    """A writable copy of a course root (the FIFO and the link kept as they are)."""
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns(".built", "*.lock"), copy_function=_copy)
    return dst


def as_nbgrader_course(root):
    """Make ``root`` an nbgrader course directory as the repository is: its config, solutions/ and exercises/."""
    for folder in ("solutions", "exercises"):
        if not (root / folder).exists():
            shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "nbgrader_config.py", root)
    return root


def nbgrader(root, *args, env=None, timeout=900):
    """Run ``nbgrader ARGS`` in ``root`` as an instructor would (the venv's scripts on PATH)."""
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=root,
        env=env or with_scripts_on_path(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- what feedback must never show ---------------------------------------------------------------

_BEGIN, _END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
MIN_LINE = 10  # shorter hidden lines are punctuation or a bare name (")", "relu,", "atol=0.0,")


def _norm(text):
    return " ".join(text.split())


def hidden_lines():
    """Every non-trivial hidden-test line of solutions/: stripped, 10+ characters, not in the released notebook."""
    lines = set()
    for assignment in ASSIGNMENTS:
        source = json.loads((REPO / "solutions" / assignment / f"{assignment}.ipynb").read_text())
        shown = "\n".join(
            "".join(c["source"])
            for c in json.loads((REPO / "exercises" / assignment / f"{assignment}.ipynb").read_text())["cells"]
        )
        for cell in source["cells"]:
            if not cell["metadata"].get("nbgrader", {}).get("grade"):
                continue
            inside = False
            for line in "".join(cell["source"]).splitlines():
                if _BEGIN in line:
                    inside = True
                elif _END in line:
                    inside = False
                elif inside and len(line.strip()) >= MIN_LINE and line.strip() not in shown:
                    lines.add(_norm(line))
    return sorted(lines)


def quiz_answers():
    """Every expected quiz answer expression of the hidden tests, e.g. ``Choice("b")``, in both quote styles."""
    found = set()
    for line in hidden_lines() + [
        _norm(f'expect=Choice("{x}")') for a in ASSIGNMENTS for x in quiz_letters(a).values()
    ]:
        for m in re.finditer(r"Choice\(([^)]*)\)", line):
            found |= {f"Choice({m[1]})", f"Choice({m[1].replace(chr(34), chr(39))})"}
    return sorted(found)


class _Text(html.parser.HTMLParser):
    """The text nodes of a page, as BeautifulSoup's ``get_text()`` gives them: no style, script or template."""

    HIDDEN = frozenset({"style", "script", "template"})

    def __init__(self):
        super().__init__(convert_charrefs=True)  # entities decoded, as a browser shows them
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag):
        self.hidden -= tag in self.HIDDEN and self.hidden > 0

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def page_text(path):
    """The text a reader of an HTML page sees (tags dropped, entities decoded), whitespace-normalized.

    The standard library's parser, which BeautifulSoup's ``html.parser`` builds
    a tree on: the same text (tests/grader/test_feedback_leaks.py checks it),
    five times faster on the 350 KB feedback pages.
    """
    parser = _Text()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    parser.close()
    # no separator: highlighted code is one span per token, and the page's own whitespace is the code's
    return _norm("".join(parser.parts))


def leaks(pages):
    """Search every page for every hidden line and quiz answer.

    Returns ``(files, needles, page lines, hits)``: how many pages, how many
    hidden lines and quiz answers were looked for, how many lines the pages
    have, and the ``(page, needle)`` pairs found.
    """
    needles = hidden_lines() + quiz_answers()
    hits, searched = [], 0
    for page in pages:
        text = page_text(page)
        searched += len(Path(page).read_text(encoding="utf-8").splitlines())
        hits += [(str(page), n) for n in needles if n in text]
    return len(pages), len(needles), searched, hits
