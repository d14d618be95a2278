"""The report page in headless Chromium: offline, figures with text alternatives, phone-sized, axe-clean, links that resolve."""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from testkit import site as kit
from testkit.report_class import HARDEST_FIRST

from nnbasics.assignments import ASSIGNMENTS, site_url
from nnbasics.grading import course
from nnbasics.report import links

pytestmark = pytest.mark.browser

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(scope="module")
def browser():
    from playwright import sync_api

    if not Path(kit.CHROMIUM).exists():
        pytest.fail(f"{kit.CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=kit.CHROMIUM, args=kit.CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_report(browser, graded_class):
    """``open_report(viewport) -> (page, watch, requested)``: the report in a fresh context."""
    contexts = []

    def _open(viewport):
        context = browser.new_context(**VIEWPORTS[viewport])
        contexts.append(context)
        page = context.new_page()
        url = (graded_class["report"] / "index.html").as_uri()
        watch = kit.PageWatch(page, allow=[url])  # any other request, even of a local file, is aborted and listed
        requested = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(url, wait_until="load")
        return page, watch, [u for u in requested if u != url]

    yield _open
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_offline_no_errors_no_horizontal_scroll_and_axe_clean(open_report, viewport):
    page, watch, requested = open_report(viewport)
    assert requested == [] and watch.external == []  # self-contained: the page asks for nothing
    assert watch.errors == []
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways at {viewport}: {width}"
    # every text is at least 12 px: readable on the phone without zooming
    smallest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('body *')]
             .filter((e) => e.childNodes.length && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
             .filter((e) => !e.closest('svg'))
             .map((e) => parseFloat(getComputedStyle(e).fontSize)))"""
    )
    assert smallest >= 12
    violations = kit.axe_violations(page)
    assert not violations, "\n".join(violations)


def test_every_figure_has_a_text_alternative_with_its_numbers(open_report):
    page, _, _ = open_report("desktop")
    figures = page.locator("svg")
    assert figures.count() == 1  # one histogram per assignment with graded submissions
    svg = figures.first
    assert svg.get_attribute("role") == "img"
    alt = svg.get_attribute("aria-label")
    for fact in ("Histogram", "8 graded scores", "01_neuron", "out of 14", "mean 12.5", "median 13", "2 scored 10"):
        assert fact in alt, (fact, alt)
    assert "1 scored 12; 2 scored 13; 3 scored 14" in alt
    box = svg.bounding_box()
    assert box["width"] > 300 and box["height"] > 100
    assert page.locator("figure figcaption").first.inner_text() == alt  # the same words, visible


def test_tables_as_constructed(open_report):
    page, _, _ = open_report("desktop")
    tests = page.locator("table.cards tbody tr")
    assert [tests.nth(i).locator("th").inner_text() for i in range(tests.count())] == list(HARDEST_FIRST)
    sigmoid = tests.nth(0).inner_text()
    assert "62.5 % (5 of 8)" in sigmoid and "+0.54" in sigmoid and "3 × sigmoid" in sigmoid
    assert tests.nth(0).locator("a").get_attribute("href") == site_url() + "neuron/#the-activation-functions"
    assert "undefined: everyone passed" in tests.nth(3).inner_text()
    students = page.locator("table:not(.cards) tbody tr")
    first = [students.nth(i).inner_text() for i in range(2)]
    assert first[0].startswith("ivy") and "crashed" in first[0] and "kernel died" in first[0]
    assert first[1].startswith("jo") and "invalid" in first[1] and "not valid JSON" in first[1]
    assert students.count() == 10
    cara = students.filter(has_text="cara").inner_text().split("\t")
    assert cara[:2] == ["cara", "graded"] and cara[3:] == ["10", "2", "0", "0", "2", "2", "1", "1", "1", "1"]


def test_similar_pairs_side_by_side(open_report):
    page, _, _ = open_report("phone")
    articles = page.locator("article")
    titles = [articles.nth(i).locator("h3").inner_text() for i in range(articles.count())]
    assert titles == [
        "dense_forward in 01_neuron: finn and gus, similarity 1.00",
        "dense_forward in 01_neuron: finn and the course's own nnbasics.dense_forward, similarity 1.00",
        "dense_forward in 01_neuron: gus and the course's own nnbasics.dense_forward, similarity 1.00",
        "neuron_forward in 01_neuron: ada and hal, similarity 1.00",
    ]
    for i in range(articles.count()):
        code = articles.nth(i).locator("pre")
        assert code.count() == 2 and all(code.nth(k).inner_text().strip() for k in range(2))
    assert "def dense_forward(X, W, b):" in articles.nth(1).locator("pre").nth(1).inner_text()
    text = page.locator("#h-similar").locator("xpath=..").inner_text()
    assert "never a penalty" in text and "renamed" in text and "can be missed" in text


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k == "id" and v)


def resolves(url, site):
    """Whether ``url`` (under the site's address) names a built page and, with a #fragment, an element id of it."""
    parts = urlsplit(url)
    assert url.startswith(site_url()), url
    page = site / parts.path.removeprefix(urlsplit(site_url()).path) / "index.html"
    if not page.is_file():
        return False
    parser = _Ids()
    parser.feed(page.read_text(encoding="utf-8"))
    return not parts.fragment or parts.fragment in parser.ids


def test_every_test_of_the_course_links_to_a_section_that_exists(tmp_path_factory):
    site = kit.built_site(tmp_path_factory)
    for assignment in ASSIGNMENTS:
        for gid in course.test_ids(assignment):
            url, heading = links.section(assignment, gid)
            assert "#" in url and heading != "the page", (assignment, gid)
            assert resolves(url, site), (assignment, gid, url)


def test_the_report_links_resolve_against_the_built_site(graded_class, tmp_path_factory):
    site = kit.built_site(tmp_path_factory)
    page = (graded_class["report"] / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]+)"', page)
    external = [h for h in hrefs if h.startswith("http")]
    assert len(external) == len(HARDEST_FIRST)  # one per test
    assert all(resolves(h.replace("&amp;", "&"), site) for h in external), external
    local = {h for h in hrefs if not h.startswith(("http", "#"))}
    assert local == {"report.json", "tests.csv", "submissions.csv"}
    assert all((graded_class["report"] / h).is_file() for h in local)
    ids = _Ids()
    ids.feed(page)
    assert {h[1:] for h in hrefs if h.startswith("#")} <= ids.ids
