"""``nnbasics grade --html DIR``: the feedback page in Chromium with the network cut: math, helpers, tests, no CDN."""

import json
import re
from pathlib import Path

import nbformat
import pytest
from testkit.notebooks import REPO, released, solved, write
from testkit.site import CHROMIUM, CHROMIUM_ARGS, PageWatch

from nnbasics.grading import checks

pytestmark = pytest.mark.browser

WRONG_RELU = "def relu(z):\n    return np.abs(np.asarray(z, dtype=float))\n"
# the visible text of the Markdown cells, where a `$` pair would be TeX left unrendered
_PROSE = """() => [...document.querySelectorAll('.text_cell_render')].map((el) => {
  const copy = el.cloneNode(true);
  copy.querySelectorAll('code, pre, math').forEach((c) => c.remove());
  return copy.innerText;
}).join('\\n')"""


@pytest.fixture(scope="module")
def feedback(tmp_path_factory, run):
    """The page and the --json entry of a partly wrong 01_neuron (relu wrong, the rest right)."""
    tmp = tmp_path_factory.mktemp("feedback")
    path = write(solved("01_neuron", {"relu": WRONG_RELU}), tmp / "01_neuron.ipynb")
    proc = run("grade", "--json", "--html", tmp / "html", path)
    assert proc.returncode == 0, proc.stderr
    entry = json.loads(proc.stdout)["notebooks"][0]
    assert 0 < entry["score"] < entry["max_score"]
    return tmp / "html" / "01_neuron.html", entry


@pytest.fixture(scope="module")
def page(feedback):
    from playwright import sync_api

    html, _ = feedback
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        watch = PageWatch(page, allow={html.as_uri()})  # only the page itself: every other request is cut
        page.goto(html.as_uri(), wait_until="load")
        page.wait_for_timeout(300)  # anything the page would fetch late
        yield page, watch
        browser.close()


def test_page_calls_no_other_host(feedback, page):
    page, watch = page
    assert watch.external == [], watch.external
    assert watch.errors == [], watch.errors
    source = feedback[0].read_text(encoding="utf-8")
    assert "MathJax" not in source and "cdnjs" not in source  # nbgrader's template would load it from a CDN
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*(src|href)=[\"']?(https?:)?//", source, re.I)


def test_math_is_rendered_without_a_cdn(page):
    page, _ = page
    formulas = page.locator(".text_cell_render math")
    assert formulas.count() >= 10  # 01_neuron's Markdown has about twenty
    box = formulas.first.bounding_box()
    assert box and box["width"] > 5 and box["height"] > 5  # Chromium lays MathML out
    prose = page.evaluate(_PROSE)
    assert not re.search(r"\$[^$\n]+\$", prose), "raw $...$ left in the Markdown"
    assert "\\frac" not in prose and "\\sigma" not in prose


def test_helpers_cell_is_folded(page):
    page, _ = page
    helpers = page.locator("details.nnbasics-helpers")
    assert helpers.count() == 1
    assert helpers.get_attribute("open") is None
    line = "def judge("  # a line of the helpers cell (nnbasics/grading/checks.py)
    assert line in Path(checks.__file__).read_text(encoding="utf-8")
    code = helpers.locator("pre", has_text=line)
    assert code.count() == 1 and not code.is_visible()
    helpers.locator("summary").click()
    assert code.is_visible()
    helpers.locator("summary").click()


def test_every_test_shows_name_points_and_feedback(feedback, page):
    page, _ = page
    _, entry = feedback
    table = page.locator(".nnbasics-summary table")
    assert table.is_visible()
    for t in entry["tests"]:
        row = table.locator("tr", has=page.locator("code", has_text=re.compile(f"^{t['grade_id']}$")))
        assert row.count() == 1, t["grade_id"]
        text = row.inner_text()
        assert f"{t['score']:g} / {t['max_score']:g}" in text
        assert ("pass" if t["passed"] else "fail") in text
        if t["feedback"]:
            assert t["feedback"] in text
    failed = [t for t in entry["tests"] if not t["passed"]]
    assert [t["grade_id"] for t in failed] == ["test_relu"]
    assert page.get_by_text("https://nnbasics.github.io/neuron/").first.is_visible()  # the page to read again


def test_hidden_tests_never_shown(page):
    page, _ = page
    text = page.evaluate("document.body.textContent")  # folded or not, everything the page holds
    source = nbformat.read(REPO / "solutions" / "01_neuron" / "01_neuron.ipynb", as_version=4)
    hidden = [
        c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
        for c in source.cells
        if "### BEGIN HIDDEN TESTS" in c.source
    ]
    assert hidden
    # each hidden check's message, where the released notebook does not have it too
    released_text = "\n".join(c.source for c in released("01_neuron").cells)
    messages = {m for block in hidden for m in re.findall(r'msg="([^"]{20,})"', block)}
    messages = {m for m in messages if m not in released_text}
    assert len(messages) >= 10
    assert not [m for m in messages if m in text]
    assert "BEGIN HIDDEN TESTS" not in text
    assert "check(" in text  # the visible tests are there
