"""The built site's links and its exercise previews: every link resolves, previews are light and call no CDN."""

import html
import posixpath
import re
from urllib.parse import unquote, urlsplit

import pytest

from nnbasics.assignments import ASSIGNMENTS, PAGES, site_url
from nnbasics.site import preview

PREVIEW_LIMIT = 250_000  # bytes of HTML per exercise preview (issue 15)

_HREF = re.compile(r"""<a\b[^>]*?\bhref=(["'])(.*?)\1""", re.S)
_ID = re.compile(r"""\bid=(["'])(.*?)\1""")


def _article(source):
    return source[source.index("<article") : source.index("</article>")]


def _ids(path, cache={}):  # noqa: B006 - a per-session memo of parsed pages
    if path not in cache:
        cache[path] = {html.unescape(m[2]) for m in _ID.finditer(path.read_text(encoding="utf-8"))}
    return cache[path]


def _broken_links(site, page):
    """The links of ``page`` (a built HTML file) that lead to no file of ``site``, or to an id its target lacks."""
    url = page.relative_to(site).as_posix()
    base = posixpath.dirname(url) + "/" if "/" in url else ""
    broken = []
    for m in _HREF.finditer(page.read_text(encoding="utf-8")):
        href = html.unescape(m[2])
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
            continue
        path = unquote(parts.path)
        target = posixpath.normpath(posixpath.join(base, path)) if path else url
        file = site / target
        if file.is_dir() or path.endswith("/"):
            file = file / "index.html"
        if not file.is_file():
            broken.append(f"{href} (no {file.relative_to(site)})")
        elif parts.fragment and file.suffix == ".html" and unquote(parts.fragment) not in _ids(file):
            broken.append(f"{href} (no id {parts.fragment!r} in {file.relative_to(site)})")
    return broken


def test_every_link_on_every_page_resolves(built_site):
    """Every relative link of every built page leads to a file of the site, and to an id that exists there."""
    pages = sorted(p for p in built_site.rglob("*.html") if p.name != "404.html")  # 404 links from the site root
    assert len(pages) >= 13
    problems = [f"{p.relative_to(built_site)}: {b}" for p in pages for b in _broken_links(built_site, p)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_preview_is_light_and_calls_no_cdn(built_site, assignment):
    source = (built_site / "exercises" / assignment / "index.html").read_text(encoding="utf-8")
    assert len(source.encode()) <= PREVIEW_LIMIT, f"{assignment}: {len(source.encode())} bytes of HTML"
    article = _article(source)
    assert "<style" not in article, "the notebook CSS is back"
    assert "<script" not in article and "mermaid" not in article.lower() and "mathjax" not in article.lower()
    assert "clipboard-copy" not in article  # Material's own copy button serves the code blocks
    # the code cells are Material code blocks, the Markdown cells' math is rendered
    assert article.count('<div class="language-python highlight"><pre><span></span><code>') >= 5
    assert '<span class="katex">' in article and "$" not in re.sub(r"<(pre|code)\b.*?</\1>", "", article, flags=re.S)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_preview_links_to_its_concept_page(built_site, assignment):
    """The notebook's link to its concept page (absolute in the notebook, or the docs/ path of a clone) is relative."""
    article = _article((built_site / "exercises" / assignment / "index.html").read_text(encoding="utf-8"))
    hrefs = [html.unescape(m[2]) for m in _HREF.finditer(article)]
    page = PAGES[assignment].removesuffix(".md")
    assert any(h.split("#")[0] == f"../../{page}/" for h in hrefs), hrefs
    assert not [h for h in hrefs if h.startswith(site_url()) or "/docs/" in h or h.endswith(".md")]


def test_site_links_are_rewritten_from_either_form():
    """``relink`` on the two forms a notebook may use, with and without an anchor; other links stay."""
    pages = {"neuron.md": "neuron/", "chain-rule.md": "chain-rule/"}
    body = (
        '<a href="https://nnbasics.github.io/neuron/">a</a> <a href="https://nnbasics.github.io/chain-rule/#graph">b</a>'
        ' <a href="../../docs/neuron.md#bias">c</a> <a href="../../docs/missing.md">d</a>'
        ' <a href="https://numpy.org/">e</a> <a href="#local">f</a> <a href="https://nnbasics.github.io/">g</a>'
    )
    out = preview.relink(
        body, "exercises/01_neuron/", ["https://nnbasics.github.io/"], "exercises/01_neuron/x.ipynb", pages.get
    )
    assert re.findall(r'href="([^"]*)"', out) == [
        "../../neuron/",
        "../../chain-rule/#graph",
        "../../neuron/#bias",
        "../../docs/missing.md",  # not a page of the site: left for the link test to catch
        "https://numpy.org/",
        "#local",
        "../../",
    ]


def test_lighten_keeps_the_cells_and_drops_the_rest():
    body = (
        '<script src="x.js"></script><style>.jp-Cell{}</style><!-- Load mathjax -->'
        '<script type="module">import mermaid from "https://cdn.example/mermaid.mjs"</script>'
        '<div class="jp-Cell-inputWrapper" tabindex="0"><div class="zeroclipboard-container">'
        '<clipboard-copy for="cell-1"><div>copy</div></clipboard-copy></div>'
        '<div class="highlight-ipynb hl-python"><pre><span></span><span class="n">x</span> = 1\n</pre></div>'
        '<div class="clipboard-copy-txt" id="cell-1">x = 1\n</div></div>'
        '<h2 id="a">A<a class="anchor-link" href="#a">¶</a></h2>'
    )
    assert preview.lighten(body) == (
        '<div class="jp-Cell-inputWrapper">'
        '<div class="language-python highlight"><pre><span></span><code><span class="n">x</span> = 1\n</code></pre></div>'
        '</div><h2 id="a">A<a class="headerlink" href="#a">¶</a></h2>'
    )


def test_pages_load_the_math_and_api_stylesheets_only_where_used(built_site):
    """A stylesheet blocks the first paint: KaTeX's only with math on the page, mkdocstrings' only with API docs."""
    problems = []
    for page in sorted(built_site.rglob("*.html")):
        source = page.read_text(encoding="utf-8")
        for used, sheet in (('class="katex"', "katex.min.css"), ('class="doc doc-', "_mkdocstrings.css")):
            linked = re.search(rf'<link rel="stylesheet" href="[^"]*{re.escape(sheet)}">', source) is not None
            if linked != (used in source):
                problems.append(f"{page.relative_to(built_site)}: {sheet} {'linked, unused' if linked else 'missing'}")
    assert not problems, "\n".join(problems)
    assert "katex.min.css" in (built_site / "neuron" / "index.html").read_text(encoding="utf-8")
