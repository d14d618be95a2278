"""Links a learner follows lead somewhere: every link the grader prints or writes, and every link of a released notebook.

A link resolves when it is on the site's address (``site_url`` of
mkdocs.yml, ``nnbasics.assignments.site_url()``), the file it names is in
the built site, and its anchor, if any, is an element id (or ``<a name>``)
of that file. A link in the feedback page may also be an anchor of the page
itself. Anything else (a relative path, which goes nowhere once a notebook
is downloaded, or another host) fails.
"""

import html.parser
import re
import subprocess
import sys
from urllib.parse import unquote

import nbformat
import pytest
from testkit.notebooks import REPO, solved, write

from nnbasics._env import with_scripts_on_path
from nnbasics.assignments import ASSIGNMENTS, site_url

URL = re.compile(r"https?://[^\s<>\"')\]]+")


class _Anchors(html.parser.HTMLParser):
    """The ids and ``<a name>`` of an HTML file, and its ``<a href>`` links."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.links = set(), []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href") is not None:
            self.links.append(attrs["href"])


def unresolved(url, site, base=None):
    """None when ``url`` resolves in the built ``site``, else the reason in one line."""
    base = base or site_url()
    if not url.startswith(base):
        return f"{url}: not on the site's address {base}"
    path, _, anchor = url[len(base) :].partition("#")
    path = unquote(path.split("?")[0])
    target = site / path
    if path == "" or path.endswith("/"):
        target = target / "index.html"
    if not target.is_file():
        return f"{url}: {target.relative_to(site)} is not in the built site"
    if anchor and unquote(anchor) not in _Anchors(target.read_text(encoding="utf-8")).ids:
        return f"{url}: no element with id {anchor!r} in {target.relative_to(site)}"
    return None


def notebook_links(nb):
    """Every link of a notebook: Markdown links and autolinks, HTML hrefs, and URLs anywhere in a cell."""
    links = []
    for cell in nb.cells:
        text = cell.source
        links += re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)  # [text](url "title")
        links += re.findall(r"\bhref\s*=\s*[\"']([^\"']+)[\"']", text)
        links += URL.findall(text)
    return sorted(set(links))


@pytest.fixture(scope="module")
def grade(tmp_path_factory):
    """Run the real ``nnbasics grade``; the site address from mkdocs.yml unless ``site`` is given."""
    cache = tmp_path_factory.mktemp("cache")

    def grade(*args, site=None):
        env = with_scripts_on_path(XDG_CACHE_HOME=str(cache))
        env.pop("NNBASICS_SITE_URL", None)
        if site:
            env["NNBASICS_SITE_URL"] = site
        cmd = [sys.executable, "-m", "nnbasics", "grade", *map(str, args)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return proc

    return grade


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    """A released exercise (everything fails) and a partly wrong one, as a learner hands them in."""
    folder = tmp_path_factory.mktemp("learner")
    wrong = "def relu(z):\n    return np.abs(np.asarray(z, dtype=float))\n"
    return [
        write(nbformat.read(REPO / "exercises" / "01_neuron" / "01_neuron.ipynb", as_version=4), folder / "a.ipynb"),
        write(
            solved("05_chain_rule", {"relu_backward": "def relu_backward(dout, z):\n    return dout\n"}),
            folder / "b.ipynb",
        ),
        write(solved("01_neuron", {"relu": wrong}), folder / "c.ipynb"),
    ]


def test_links_the_grader_prints_resolve(built_site, grade, notebooks, tmp_path):
    printed = URL.findall(grade(*notebooks).stdout)
    assert {site_url() + "neuron/", site_url() + "chain-rule/"} <= set(printed), printed  # one per notebook
    problems = [why for url in printed if (why := unresolved(url, built_site))]
    assert problems == []


def test_links_of_the_feedback_pages_resolve(built_site, grade, notebooks, tmp_path):
    grade("--html", tmp_path, *notebooks)
    problems, checked = [], 0
    for page in sorted(tmp_path.glob("*.html")):
        parsed = _Anchors(page.read_text(encoding="utf-8"))
        for href in parsed.links:
            checked += 1
            if href.startswith("#"):
                if unquote(href[1:]) not in parsed.ids:
                    problems.append(f"{page.name}: {href}: no such anchor in the page")
            elif why := unresolved(href, built_site):
                problems.append(f"{page.name}: {why}")
    assert len(list(tmp_path.glob("*.html"))) == 3 and checked > 20
    assert problems == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_links_of_the_released_notebooks_resolve(built_site, assignment):
    nb = nbformat.read(REPO / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    links = notebook_links(nb)
    assert links, "each notebook links to the page that teaches it"
    problems = [why for url in links if (why := unresolved(url, built_site))]
    assert problems == []


def test_the_site_address_can_be_overridden(grade, notebooks, tmp_path):
    """NNBASICS_SITE_URL points every link elsewhere, e.g. at `make serve` (README.md)."""
    local = "http://127.0.0.1:8000/"
    proc = grade("--html", tmp_path, notebooks[0], site=local)
    assert URL.findall(proc.stdout) == [local + "neuron/"]
    page = _Anchors((tmp_path / "a.html").read_text(encoding="utf-8"))
    assert local + "neuron/" in page.links  # the results' "read again" link (the notebook's own links are its own)


def test_unresolved_names_what_is_wrong(built_site):
    """The check itself fails on the ways a link goes nowhere."""
    base = site_url()
    assert unresolved(base + "neuron/", built_site) is None
    assert "not in the built site" in unresolved(base + "no-such-page/", built_site)
    assert "no element with id" in unresolved(base + "neuron/#no-such-section", built_site)
    assert "not on the site's address" in unresolved("../../docs/neuron.md", built_site)
    assert "not on the site's address" in unresolved("http://127.0.0.1:8000/neuron/", built_site)
    heading = next(iter(_Anchors((built_site / "neuron" / "index.html").read_text(encoding="utf-8")).ids))
    assert unresolved(f"{base}neuron/#{heading}", built_site) is None
