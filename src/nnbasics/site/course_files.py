"""MkDocs hooks: put the released exercise notebooks and every download into the site at build time.

- ``exercises/<id>/<id>.ipynb`` (the committed, released notebooks) become the
  pages ``exercises/<id>.ipynb``, which mkdocs-jupyter renders as previews
  (with the long test-helpers cell shortened, and a download button on top);
- the same bytes become ``downloads/<id>.ipynb``, the files the download
  links point to;
- each concept page (``nnbasics.assignments.PAGES``) becomes
  ``downloads/<page>.ipynb``: its prose and code converted into a notebook
  by ``nnbasics.site.page_notebook``;
- the nnbasics wheel becomes ``downloads/nnbasics-<version>-py3-none-any.whl``
  (``nnbasics.site.wheel``); in the Markdown, ``{nnbasics_wheel}`` stands for
  its file name and ``{site_url}`` for the site's address, so the install
  instructions name exactly what the site serves.

The pages' math is rendered at build time (``nnbasics.site.math_html``) and
the exercise previews are trimmed (``nnbasics.site.preview``).

``docs/hooks/course_files.py`` (the file mkdocs.yml names) imports these hooks.

Nothing is pasted by hand, so the site cannot drift from the exercises.
Generated files are MkDocs ``File`` objects, so links to them are checked by
``mkdocs build --strict`` like any other.
"""

import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from ..assignments import ASSIGNMENTS, PAGES, site_url
from . import fast_build, figures, math_html, preview, wheel
from .page_notebook import page_to_notebook

log = logging.getLogger("mkdocs.plugins.nnbasics")
_staging = []  # temporary copies of the exercises for the current build
_staged = {}  # assignment -> (text, mtime_ns) of its last staged copy in this process
_wheel_name = []  # the file name of this build's wheel


def _stage(path, assignment):
    """A copy of ``path`` at ``<tmp>/exercises/<assignment>.ipynb``, as a page file at that URL.

    mkdocs-jupyter wraps page files in a class that recomputes the source path
    from ``src_dir`` and ``src_uri``, so a page must be a real file at the path its
    URL names; the exercises live one folder deeper, hence the copy.
    """
    if not _staging:
        _staging.append(tempfile.mkdtemp(prefix="nnbasics-site-"))
    target = Path(_staging[0]) / "exercises" / f"{assignment}.ipynb"
    target.parent.mkdir(exist_ok=True)
    text = _shorten_helpers(path.read_text(encoding="utf-8"))
    target.write_text(text, encoding="utf-8")
    # An unchanged copy gets the time of the last build's copy back, so that a dirty rebuild (`make serve`)
    # skips its page instead of rendering the five previews again after every edit of another page.
    before = _staged.get(assignment)
    if before is not None and before[0] == text:
        os.utime(target, ns=(before[1], before[1]))
    _staged[assignment] = (text, target.stat().st_mtime_ns)
    return target


def _shorten_helpers(text):
    """The notebook with its test-helpers cell (hundreds of lines) cut to its first line, for the preview.

    Only the preview is shortened; the download is the released notebook, byte for byte.
    """
    nb = json.loads(text)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "checks":
            lines = "".join(cell["source"]).splitlines()
            cell["source"] = [
                lines[0] + "\n",
                f"# ... {len(lines) - 1} more lines: the `check` helper every test cell calls "
                "(in the downloaded notebook)\n",
            ]
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


@event_priority(100)  # before mkdocs-jupyter's on_files, which must see the exercise pages
def on_files(files, config):
    """Add the exercise pages and all downloads to the site's files."""
    root = Path(config.docs_dir).parent  # docs/ sits at the repository root, beside exercises/
    missing = [a for a in ASSIGNMENTS if not (root / "exercises" / a / f"{a}.ipynb").is_file()]
    if missing:
        raise PluginError(
            f"released exercise notebooks missing: {', '.join(f'exercises/{a}/{a}.ipynb' for a in missing)} "
            "(they are generated from solutions/ with `nbgrader generate_assignment`)"
        )
    for a in ASSIGNMENTS:
        path = root / "exercises" / a / f"{a}.ipynb"
        _stage(path, a)
        files.append(
            File(
                f"exercises/{a}.ipynb",
                _staging[0],
                config.site_dir,
                config.use_directory_urls,
            )
        )
        files.append(File.generated(config, f"downloads/{a}.ipynb", content=path.read_bytes()))
    try:
        name, content = wheel.build(root)
    except wheel.WheelError as e:
        raise PluginError(str(e)) from None
    _wheel_name[:] = [name]
    files.append(File.generated(config, f"downloads/{name}", content=content))
    docs = Path(config.docs_dir)
    for page in PAGES.values():
        text = (docs / page).read_text(encoding="utf-8")
        notebook = page_to_notebook(text)
        files.append(File.generated(config, f"downloads/{Path(page).stem}.ipynb", content=notebook))
    return files


_SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'
# Material's bundle, once loaded, swaps <html class="no-js"> for "js", marks <html> "js-focus-visible" (its
# focus-visible polyfill) and applies the palette that matches the system's colour scheme: each change restyles
# the whole page (~0.1 s of a phone's main thread each on a long page), and a dark-mode reader saw the light
# page first. Done while the page is still empty, they cost nothing, and the bundle's own changes find nothing
# left to change. Without JavaScript the page keeps "no-js".
_JS_CLASS = (
    '<script>document.documentElement.classList.replace("no-js","js");'
    'document.documentElement.classList.add("js-focus-visible")</script>'
)
_RESTORE_PALETTE = re.compile(r'<script>var palette=__md_get\("__palette"\).*?</script>', re.S)
_SYSTEM_PALETTE = """<script>(function(){var p=__md_get("__palette");if(p&&p.color)return;
var d=matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light",
i=document.querySelector("[data-md-color-media='(prefers-color-scheme: "+d+")']");if(!i)return;
["media","scheme","primary","accent"].forEach(function(k){
document.body.setAttribute("data-md-color-"+k,i.getAttribute("data-md-color-"+k))});
document.body.setAttribute("data-md-color-switching","")})()</script>"""


_UNUSED_CSS = {
    "katex": re.compile(r'\s*<link rel="stylesheet" href="[^"]*assets/vendor/katex/katex\.min\.css">'),
    "mkdocstrings": re.compile(r'\s*<link rel="stylesheet" href="[^"]*assets/_mkdocstrings\.css">'),
}


def _tidy(output):
    """What every built HTML page gets: a named search dialog, the theme settled early, only the CSS it uses."""
    output = output.replace(
        _SEARCH_DIALOG, _SEARCH_DIALOG.replace('role="dialog"', 'role="dialog" aria-label="Search"')
    )
    output = output.replace("<head>", "<head>" + _JS_CLASS, 1)
    output = _RESTORE_PALETTE.sub(lambda m: m[0] + _SYSTEM_PALETTE, output, count=1)
    # stylesheets a page does not use would still block its first paint: KaTeX's without math,
    # mkdocstrings' outside the API reference
    if 'class="katex"' not in output:
        output = _UNUSED_CSS["katex"].sub("", output, count=1)
    if 'class="doc doc-' not in output:
        output = _UNUSED_CSS["mkdocstrings"].sub("", output, count=1)
    return output


def on_post_template(output, template_name, config):
    """The 404 page, which has no page events, is tidied like the others."""
    return _tidy(output) if template_name.endswith(".html") else output


def on_post_page(output, page, config):
    """Put in the page's figures; tidy it (``_tidy``); preload the KaTeX fonts its math uses (laid out once).

    The figures, drawn in the background (``figures.show``), go in this late, once the page is written:
    the build did not wait for them, and the search index does not hold their tick labels.
    """
    try:
        output = figures.fill_in(output)
    except figures.FigureError as e:
        raise PluginError(f"{page.file.src_uri}: {e}") from None
    output = _tidy(output)
    fonts = math_html.fonts_used(output)
    if not fonts:
        return output
    links = "".join(
        f'<link rel="preload" href="{get_relative_url(f"assets/vendor/katex/fonts/{font}.woff2", page.url)}" '
        'as="font" type="font/woff2" crossorigin>'
        for font in fonts
    )
    return output.replace("</title>", "</title>" + links, 1)


# Material's palette stylesheet stops every transition while the palette switches: `[data-md-color-switching] *`.
# The bundle removes that attribute from <body> once the page has started, and a rule on "every descendant" makes
# that removal restyle the whole page once more (~0.1 s of a phone's main thread on a long page, measured in a
# Chromium trace). Limited to the parts that have colour transitions (header, tabs, the palette toggle's
# label), the same removal restyles only those.
_SWITCHING_RULE = (
    "[data-md-color-switching] *,[data-md-color-switching] :after,[data-md-color-switching] :before"
    "{transition-duration:0s!important}"
)
_SWITCHING_NARROW = (
    "[data-md-color-switching] .md-header,[data-md-color-switching] .md-tabs,"
    "[data-md-color-switching] .md-header__button{transition-duration:0s!important}"
)


def _rewrite_built_css(folder, pattern, old, new):
    """Replace ``old`` by ``new`` in the built stylesheets ``folder/pattern`` that hold it; the files changed."""
    changed = []
    for css in sorted(Path(folder).glob(pattern)):
        text = css.read_text(encoding="utf-8")
        if old in text:
            css.write_text(text.replace(old, new), encoding="utf-8")
            changed.append(css)
    return changed


def narrow_palette_switching(site_dir):
    """Rewrite the built palette stylesheet's transition stop to ``_SWITCHING_NARROW``; the files changed."""
    folder = Path(site_dir) / "assets" / "stylesheets"
    return _rewrite_built_css(folder, "palette.*.min.css", _SWITCHING_RULE, _SWITCHING_NARROW)


# KaTeX's stylesheet declares its fonts `font-display: block`: text in a font still loading is laid out but hidden.
# Every math page preloads the fonts it uses (on_post_page), yet headless Chromium held the first frame of a concept
# page for about 1 s or 2 s in a quarter to a third of Lighthouse's mobile runs while those fonts were pending
# (observed first paint 1.3 or 2.3 s against 0.2 s; the main thread idle meanwhile), which cost 8-20 points of
# mobile performance. With `optional`, 0 of 6 runs were held (scores 92-96 on learning-rate/) and nothing shifted:
# a preloaded optional font that arrives within the short block period is used, and one that does not is never
# swapped in (the fallback stays for that view, the font is cached for the next page): web.dev's advice for
# preloaded fonts, "preload + font-display: optional".
_KATEX_BLOCK, _KATEX_OPTIONAL = "font-display:block", "font-display:optional"


def katex_fonts_optional(site_dir):
    """Rewrite the built KaTeX stylesheet's ``font-display: block`` to ``optional``; the files changed."""
    folder = Path(site_dir) / "assets" / "vendor" / "katex"
    return _rewrite_built_css(folder, "katex*.css", _KATEX_BLOCK, _KATEX_OPTIONAL)


def _remove_staged():
    while _staging:
        shutil.rmtree(_staging.pop(), ignore_errors=True)


def on_post_build(config):
    """Narrow the palette's transition stop; KaTeX's fonts ``optional`` (``katex_fonts_optional``); no staged copies."""
    narrow_palette_switching(config.site_dir)
    katex_fonts_optional(config.site_dir)
    _remove_staged()


def on_build_error(error):
    """A failed build leaves no staged copies behind either."""
    _remove_staged()


@event_priority(50)  # before mkdocs-quiz, which reads the page's "quiz" metadata
def on_page_markdown(markdown, page, config, files):
    """Name the wheel and the site's address; turn mkdocs-quiz off on a page without quizzes.

    mkdocs-quiz would inline its ~57 KB of CSS and JS in every page, quizzes or not.
    """
    if "<quiz>" not in markdown and "quiz" not in page.meta:
        page.meta["quiz"] = {"enabled": False}
    if _wheel_name:
        markdown = markdown.replace("{nnbasics_wheel}", _wheel_name[0])
    return markdown.replace("{site_url}", (config.site_url or site_url()).rstrip("/") + "/")


def on_config(config):
    """Check once per build that KaTeX is there, and is the version of the stylesheet the pages load; start helpers."""
    try:
        katex = math_html.find_katex(Path(config.docs_dir).parent)
        math_html.check_stylesheet(katex, Path(config.docs_dir) / "assets" / "vendor" / "katex" / "katex.min.css")
    except math_html.MathError as e:
        raise PluginError(str(e)) from None
    config["nnbasics_katex"] = str(katex)
    fast_build.share_compiled_templates()  # the notebook previews' exporters compile nbconvert's templates once
    figures.draw_in_background()  # the pages' figures are drawn on the second core (see on_post_page)
    return config


@event_priority(-50)  # after mkdocs-quiz, whose quizzes hold math too
def on_page_content(html, page, config, files):
    """Render the page's math; make each exercise preview light, with working links and a download button."""
    render = math_html.renderer(config["nnbasics_katex"]).render
    stem = Path(page.file.src_uri).stem
    try:
        if not (page.file.src_uri.startswith("exercises/") and stem in ASSIGNMENTS):
            return math_html.render_arithmatex(html, render)
        html = preview.lighten(html)
        html = math_html.render_notebook_markdown(html, render)
    except math_html.MathError as e:
        raise PluginError(f"{page.file.src_uri}: {e}") from None

    def page_url_of(src):
        found = files.get_file_from_path(src)
        return found.url if found is not None and found.is_documentation_page() else None

    missing = preview.match_toc(page.toc, html)
    if missing:
        log.warning("%s: table of contents entries without a heading: %s", page.file.src_uri, ", ".join(missing))
    site_urls = dict.fromkeys(u.rstrip("/") + "/" for u in (config.site_url, site_url()) if u)
    html = preview.relink(html, page.url, list(site_urls), f"exercises/{stem}/{stem}.ipynb", page_url_of)
    href = get_relative_url(f"downloads/{stem}.ipynb", page.url)
    button = (
        f'<p><a class="md-button md-button--primary" href="{href}" download="{stem}.ipynb">'
        f"Download {stem}.ipynb</a> then grade it with <code>nnbasics grade {stem}.ipynb</code> "
        '(see <a href="../">Exercises</a>).</p>'
    )
    return button + html
