"""Formgrader on what grade-class wrote: Manual Grading lists the sandboxed scores, a crash is graded by hand.

The server is the instructor's: ``jupyter server`` with nbgrader's formgrader
extension, started in a copy of the graded class's course root (made an
nbgrader course as the repository is) on a free port of 127.0.0.1, and driven
in headless Chromium as the instructor would. Its Autograde button (the REST
call behind it) grades through the same sealed pipeline: the attack that
patches numpy's comparisons still scores 0 on the test it attacks.
"""

import csv
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from nbgrader.api import Gradebook
from testkit import classroom
from testkit.site import CHROMIUM, CHROMIUM_ARGS

from nnbasics._env import with_scripts_on_path
from nnbasics.grading.gradebook import points

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory, run):
    shared, _ = classroom.graded_class(tmp_path_factory, run)
    root = classroom.as_nbgrader_course(classroom.copy_course(shared, tmp_path_factory.mktemp("formgrader") / "course"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    log = open(root / "server.log", "w")  # closed below, after the server
    args = ["--ip=127.0.0.1", f"--port={port}", "--no-browser", "--allow-root", "--ServerApp.port_retries=0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", *args, f"--IdentityProvider.token={token}"],
        cwd=root,
        env=with_scripts_on_path(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the formgrader server did not start:\n{(root / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield {"root": root, "base": base, "token": token}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # the instructor's login: the server's token on every request, the pages' own API calls included
        context = browser.new_context(extra_http_headers={"Authorization": f"token {server['token']}"})
        yield context.new_page()
        browser.close()


def csv_rows(root):
    with open(root / "class-grades.csv", newline="") as f:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}


def listed(page, server, assignment):
    """``{student: (score text, needs manual grade)}`` as Manual Grading shows them for ``assignment``."""
    page.goto(f"{server['base']}/formgrader/gradebook/{assignment}/{assignment}")
    page.wait_for_selector("#main-table td.score", timeout=60_000)
    rows = page.eval_on_selector_all(
        "#main-table tr",
        """rows => rows.map(r => [r.querySelector('.name a.name-shown').textContent,
                                  r.querySelector('.score').textContent.trim(),
                                  r.querySelector('.needs-manual-grade').dataset.search])""",
    )
    return {student: (score, flag == "needs manual grade") for student, score, flag in rows}


def test_manual_grading_lists_every_submission_with_the_csv_scores(server, page):
    rows = csv_rows(server["root"])
    for assignment in ("01_neuron", "04_loss"):
        shown = listed(page, server, assignment)
        expected = {s for (s, a), r in rows.items() if a == assignment and r["status"] in ("graded", "crashed")}
        assert set(shown) == expected, (assignment, shown)
        for student, (score, review) in shown.items():
            row = rows[student, assignment]
            if row["status"] == "graded":
                assert score == f"{float(row['score']):g} / {float(row['max_score']):g}" and not review
            else:  # crashed: no score earned, waiting for the instructor
                assert score.startswith("0 / ") and review


def test_an_instructor_reviews_a_crash_and_grades_it_by_hand(server, page):
    root = server["root"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        crashed = gb.find_submission_notebook("01_neuron", "01_neuron", "crashed").id
    page.goto(f"{server['base']}/formgrader/submissions/{crashed}/")
    page.wait_for_selector("textarea#sigmoid-comment", timeout=60_000)
    # formgrader shows the gradebook's automatic comment in each answer's comment box
    page.wait_for_function("document.querySelector('textarea#sigmoid-comment').placeholder.startsWith('Not graded')")
    reason = csv_rows(root)["crashed", "01_neuron"]["reason"]
    assert reason in page.get_attribute("textarea#sigmoid-comment", "placeholder")  # why it was not graded
    assert "def sigmoid" in page.inner_text("body")  # the learner's code, to read
    page.fill("input.score#test_sigmoid", "2")
    page.press("input.score#test_sigmoid", "Enter")  # formgrader saves on change
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            grade = gb.find_grade("test_sigmoid", "01_neuron", "01_neuron", "crashed")
            if grade.manual_score == 2:
                break
        time.sleep(0.5)
    assert grade.manual_score == 2 and grade.score == 2


def test_the_autograde_button_grades_through_the_sealed_pipeline(server):
    root = server["root"]
    request = urllib.request.Request(
        f"{server['base']}/formgrader/api/submission/01_neuron/attacker/autograde",
        data=b"",
        method="POST",
        headers={"Authorization": f"token {server['token']}"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        result = json.loads(response.read())
    assert result["success"], result
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook("01_neuron", "01_neuron", "attacker")
        scores = {g.name: g.score for g in nb.grades}
    assert scores["test_sigmoid"] == 0
    assert sum(scores.values()) == float(csv_rows(root)["attacker", "01_neuron"]["score"])
    assert sum(scores.values()) == sum(points("01_neuron").values()) - points("01_neuron")["test_sigmoid"]
