"""Light exercise previews: mkdocs-jupyter's HTML of a notebook, trimmed to what the page shows.

mkdocs-jupyter (nbconvert's "lab" template) puts ~570 KB of JupyterLab CSS,
a MathJax loader, a Mermaid module imported from a CDN and a clipboard
script into every page, and writes each code cell twice (highlighted, and
again as hidden text for its copy button). ``lighten`` removes all of that
and gives each code cell Material's own code-block markup, so the theme
styles it (light and dark) and adds its copy button; the few notebook
classes left are styled by ``docs/assets/stylesheets/extra.css``.

``match_toc`` points the table of contents at the headings' real ids
(mkdocs-jupyter computes the two with different slug rules, so
"A scalar autograd engine: `Value`" was listed as ``#a-scalar-autograd-engine``
and drawn as ``#a-scalar-autograd-engine-value``).

``relink`` makes the notebooks' links work on the site: a link to the site's
own address (``site_url``, how the notebooks link to their concept page) or to
a page's Markdown source in the repository (``../../docs/neuron.md``, what
works in a clone) becomes a relative link to that page.
"""

import html
import posixpath
import re
from urllib.parse import urlsplit

from mkdocs.utils import get_relative_url

_DROP = [
    re.compile(r"<style\b.*?</style>", re.S),  # JupyterLab's CSS (the site has its own)
    re.compile(r"<script\b.*?</script>", re.S),  # MathJax, Mermaid (a CDN import), clipboard: math is rendered
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r'<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>', re.S),  # Material adds its own
    re.compile(r'<div class="clipboard-copy-txt"[^>]*>.*?</div>', re.S),  # the cell's code, a second time
]
_HIGHLIGHT = re.compile(
    r'<div class="highlight-ipynb hl-(?P<lang>[\w+-]+)"><pre>(?:<span></span>)?(?P<code>.*?)</pre></div>', re.S
)
_HEADING = re.compile(r'<h[1-6] id="(?P<id>[^"]+)">(?P<text>.*?)</h[1-6]>', re.S)
_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")')


def lighten(body):
    """The notebook HTML of mkdocs-jupyter without its inline CSS and scripts, code cells as Material code blocks.

    Parameters
    ----------
    body : str
        The page content mkdocs-jupyter rendered.

    Returns
    -------
    str
    """
    for pattern in _DROP:
        body = pattern.sub("", body)
    body = _HIGHLIGHT.sub(
        lambda m: f'<div class="language-{m["lang"]} highlight"><pre><span></span><code>{m["code"]}</code></pre></div>',
        body,
    )
    # heading anchors look like Material's (shown on hover), not like a stray "¶" link after every heading
    body = body.replace('<a class="anchor-link" href=', '<a class="headerlink" href=')
    # every cell was a tab stop (JupyterLab's command mode); on a page that is only noise for the keyboard
    return body.replace('<div class="jp-Cell-inputWrapper" tabindex="0">', '<div class="jp-Cell-inputWrapper">')


def site_target(href, site_urls, notebook_path, page_url_of):
    """The site-relative URL (``"neuron/#anchor"``) a notebook link means, or None if it is not a site link.

    Parameters
    ----------
    href : str
        The link as written in the notebook.
    site_urls : iterable of str
        The site's public addresses, each ending in ``/``.
    notebook_path : str
        Where the notebook sits in the repository (``"exercises/01_neuron/01_neuron.ipynb"``):
        relative links are read from there, as JupyterLab reads them in a clone.
    page_url_of : callable
        ``page_url_of("neuron.md") -> "neuron/"``, or None for a file the site does not have.
    """
    for base in site_urls:
        if href.startswith(base):
            return href[len(base) :]
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("#") or not parts.path.endswith(".md"):
        return None
    path = posixpath.normpath(posixpath.join(posixpath.dirname(notebook_path), parts.path))
    if not path.startswith("docs/"):
        return None
    url = page_url_of(path.removeprefix("docs/"))
    if url is None:
        return None
    return url + (f"#{parts.fragment}" if parts.fragment else "")


def relink(body, page_url, site_urls, notebook_path, page_url_of):
    """Rewrite the links of ``body`` that mean a page of the site into links relative to ``page_url``."""

    def one(m):
        target = site_target(m[2], site_urls, notebook_path, page_url_of)
        if target is None:
            return m[0]
        path, _, fragment = target.partition("#")
        rel = get_relative_url(path or ".", page_url)
        if (not path or path.endswith("/")) and not rel.endswith("/"):
            rel += "/"
        return m[1] + rel + (f"#{fragment}" if fragment else "") + m[3]

    return _HREF.sub(one, body)


def _words(fragment):
    """The text of an HTML fragment, tags, the heading's "¶" and case dropped, for comparing titles."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).replace("¶", " ").lower().split())


def match_toc(toc, body):
    """Point each entry of the page's ``toc`` at the id its heading has in ``body``.

    Returns
    -------
    list of str
        The titles of entries no heading matches (for the build to report).
    """
    headings = list(_HEADING.finditer(body))
    ids = {m["id"] for m in headings}
    by_text = {}
    for m in headings:
        by_text.setdefault(_words(m["text"]), m["id"])
    unmatched = []

    def walk(items):
        for item in items:
            if item.id not in ids:
                words = _words(item.title)
                found = by_text.get(words)
                if found is None:  # the TOC's title may lack the heading's inline code
                    starts = [i for t, i in by_text.items() if words and t.startswith(words)]
                    found = starts[0] if len(starts) == 1 else None
                if found is None:
                    unmatched.append(item.title)
                else:
                    item.id = found
            walk(item.children)

    walk(toc)
    return unmatched
