"""``ClearHiddenOutput``: feedback that shows no hidden test, not even in an error's traceback.

nbgrader's ``ClearHiddenTests`` removes the hidden region from the test
cells' *sources*, but an error output can still quote it: a traceback prints
the lines around the failing call, and under stock autograde that call is a
hidden ``check(...)`` with its expected value (a quiz's correct letter
included). This step runs in the feedback pipeline after ``GetGrades`` and
before ``ClearHiddenTests``, and leaves

* in every test cell, one output line: the test's name, its points and,
  when it failed, the failure message (the hint), with nothing else of the
  traceback;
* in every other cell, the outputs without any line that quotes a hidden
  test line.

The hidden lines are taken from the trusted source notebook of the
assignment and from the cell's own source, whichever holds more.
"""

import re

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from ...assignments import ASSIGNMENTS
from ..course import graded_cells, nbgrader_meta

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
MIN_QUOTED = (
    6  # shorter hidden lines (")", "],") are punctuation: dropping every line holding them would blank the page
)


def hidden_lines(source):
    """The stripped lines of ``source`` between BEGIN and END HIDDEN TESTS."""
    lines, inside = [], False
    for line in source.splitlines():
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def _visible_lines(source):
    out, inside = set(), False
    for line in source.splitlines():
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif not inside:
            out.add(line.strip())
    return out


def _quotes(text, hidden):
    plain = " ".join(ANSI.sub("", text).split())
    return any(h in plain for h in hidden)


def scrub(text, hidden):
    """``text`` without the lines that quote one of ``hidden`` (whitespace-normalized, ANSI colours ignored)."""
    return "\n".join(line for line in text.split("\n") if not _quotes(line, hidden))


def _points(value):
    return f"{float(value or 0):g}"


class ClearHiddenOutput(NbGraderPreprocessor):
    """Reduce test cells' outputs to name, points and message; drop quoted hidden lines everywhere else."""

    def preprocess(self, nb, resources):
        assignment = resources.get("nbgrader", {}).get("assignment")
        trusted = graded_cells(assignment) if assignment in ASSIGNMENTS else {}
        sources = [source for kind, source in trusted.values() if kind == "test"]
        sources += [c.source for c in nb.cells if nbgrader_meta(c).get("grade")]
        visible = set().union(*(_visible_lines(s) for s in sources)) if sources else set()
        # a hidden line that also stands in a visible test (np.random.default_rng(0)) reveals nothing
        hidden = {
            " ".join(h.split()) for s in sources for h in hidden_lines(s) if len(h) >= MIN_QUOTED and h not in visible
        }
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type != "code":
                continue
            if meta.get("grade") and not meta.get("solution"):
                cell.outputs = self._verdict(meta, cell.get("outputs", []), hidden)
            else:
                cell.outputs = [self._scrubbed(o, hidden) for o in cell.get("outputs", [])]
        return nb, resources

    def _verdict(self, meta, outputs, hidden):
        """The one output of a test cell in the feedback: ``test_x: 0 / 2 points. <message>``."""
        gid, score, points = meta.get("grade_id", "test"), meta.get("score"), meta.get("points")
        head = f"{gid}: {_points(score)} / {_points(points)} points"
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if not errors and float(score or 0) >= float(points or 0):
            return [NotebookNode(output_type="stream", name="stdout", text=f"{head}, passed\n")]
        if errors:  # the message is the failure and its hint; the traceback around it is what quotes the tests
            ename = scrub(ANSI.sub("", str(errors[0].get("ename", ""))), hidden) or "Error"
            message = scrub(ANSI.sub("", str(errors[0].get("evalue", ""))), hidden)
        else:  # no error yet not full marks: a warning on stderr, or a manual grade
            ename, message = "Failed", "the test did not pass (it wrote to stderr, or it was graded by hand)"
        why = f"{ename}: {message}" if message else ename
        return [NotebookNode(output_type="error", ename=ename, evalue=message, traceback=[f"{head}. {why}"])]

    def _scrubbed(self, output, hidden):
        kind = output.get("output_type")
        if kind == "stream":
            output.text = scrub(output.get("text", ""), hidden)
        elif kind == "error":
            output.evalue = scrub(str(output.get("evalue", "")), hidden)
            output.traceback = [t for t in (scrub(str(t), hidden) for t in output.get("traceback", [])) if t.strip()]
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            for mime, value in list(data.items()):
                if isinstance(value, str):
                    data[mime] = scrub(value, hidden)
                elif isinstance(value, list):
                    data[mime] = scrub("".join(value), hidden)
        return output
