"""Math rendered at build time: TeX in the built pages becomes KaTeX HTML with MathML beside it.

The pages carry no raw TeX and load no math script: the browser gets finished
HTML (styled by ``katex.min.css`` and its fonts, served by the site) and
assistive technology reads the MathML. Two sources of TeX are rendered:

- Markdown pages, quizzes included: ``pymdownx.arithmatex`` (generic mode)
  leaves ``<span class="arithmatex">\\(...\\)</span>`` and
  ``<div class="arithmatex">\\[...\\]</div>``;
- notebook previews (mkdocs-jupyter): Markdown cells keep ``$...$`` and
  ``$$...$$`` as text.

KaTeX itself (npm, pinned in ``package.json``, installed by ``npm ci`` into
``node_modules/``) runs in one long-lived ``node`` process per build process,
fed a page's formulas at a time; every rendered formula is kept, so a rebuild
under ``mkdocs serve`` renders only what changed.
"""

import atexit
import html
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

_SCRIPT = Path(__file__).with_name("katex_render.js")
_CHECKOUT = Path(__file__).resolve().parents[3]  # src/nnbasics/site/math_html.py -> the checkout

# pymdownx.arithmatex, generic mode: the TeX, HTML-escaped, inside \( \) or \[ \]
_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\])\s*</(?P=tag)>',
    re.S,
)
# the opening tag of a notebook's Markdown cell as nbconvert writes it
_MARKDOWN_CELL = re.compile(r'<div class="[^"]*\bjp-MarkdownOutput\b[^"]*"[^>]*>')
_DIV = re.compile(r"<div\b|</div>")
# what must not be searched for math inside a cell: code, and tags (attribute values)
_SKIP = re.compile(r"<(pre|code)\b.*?</\1>|<[^>]+>", re.S)
_DOLLARS = re.compile(r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\s](?:[^$]*?[^$\s])?)\$(?!\d)", re.S)


_MATH = re.compile(r"<math\b[^>]*>.*?</math>", re.S)
_SPACED = set("=+−<>≤≥≈≠→←↦∈∉×⋅±∝≡")  # operators written with a space on each side
_ACCENTS = {"^": "hat", "ˆ": "hat", "‾": "bar", "¯": "bar", "~": "tilde", "˜": "tilde", "→": "vector", "˙": "dot"}


def _children(el):
    return [c for c in el if c.tag.rsplit("}", 1)[-1] not in ("annotation", "annotation-xml")]


def _group(el):
    """``el`` in linear form, in parentheses unless it is one symbol or one number."""
    text = _linear(el).strip()
    return text if len(text) <= 1 or re.fullmatch(r"[\w.′⊤]+", text) else f"({text})"


def _linear(el):
    """The MathML element ``el`` written on one line, as one would type it (``σ(z) = 1/(1 + e^(−z))``)."""
    tag, kids = el.tag.rsplit("}", 1)[-1], _children(el)
    text = (el.text or "").strip()
    if tag in ("mi", "mn", "mtext", "ms"):
        return text
    if tag == "mo":
        return f" {text} " if text in _SPACED else ", " if text == "," else text
    if tag == "mspace":
        return " "
    if tag == "mphantom":
        return ""
    if tag == "semantics":
        return _linear(kids[0]) if kids else ""
    if tag == "mfrac" and len(kids) == 2:
        return f"{_group(kids[0])}/{_group(kids[1])}"
    if tag in ("msup", "msub", "msubsup", "munder", "mover", "munderover") and len(kids) >= 2:
        base = _linear(kids[0])
        if tag == "mover" and el.get("accent") == "true":
            return f"{_ACCENTS.get(_linear(kids[1]).strip(), 'accent')}({base.strip()})"
        marks = {"msup": "^", "mover": "^", "msub": "_", "munder": "_"}.get(tag)
        scripts = [(marks, kids[1])] if marks else [("_", kids[1]), ("^", kids[2])] if len(kids) == 3 else []
        out = base
        for mark, script in scripts:
            out += "′" if _linear(script).strip() == "′" else f"{mark}{_group(script)}"
        return out
    if tag == "msqrt":
        return f"√({''.join(_linear(k) for k in kids).strip()})"
    if tag == "mroot" and len(kids) == 2:
        return f"root {_group(kids[1])} of ({_linear(kids[0]).strip()})"
    if tag == "mtable":
        return "; ".join(", ".join(_linear(cell).strip() for cell in _children(row)) for row in kids)
    return _row(kids)


_SCRIPTED = {"msup", "msub", "msubsup", "munder", "mover", "munderover"}


def _row(kids):
    """Children side by side: a leading sign unspaced (``−z``), a space after a scripted term (``∑_i w_i x_i``)."""
    out, previous = [], None
    for n, kid in enumerate(kids):
        tag = kid.tag.rsplit("}", 1)[-1]
        piece = _linear(kid)
        if n == 0 and tag == "mo":
            piece = piece.strip()
        elif previous in _SCRIPTED and tag != "mo":
            piece = " " + piece
        out.append(piece)
        previous = tag
    return "".join(out)


def spoken(mathml):
    """A formula's text for assistive technology, from its MathML: one line, ``φ(w⋅x + b)``.

    Chromium names a control from its label's text but leaves MathML out of
    that name (a quiz option that is a formula had no name at all), so every
    rendered formula carries this text as its ``aria-label``.
    """
    try:
        root = ET.fromstring(mathml)
    except ET.ParseError:
        return " ".join(
            html.unescape(re.sub(r"<annotation\b.*?</annotation>|<[^>]+>", " ", mathml, flags=re.S)).split()
        )
    return re.sub(r" {2,}", " ", _linear(root)).strip()


def _label(rendered):
    """KaTeX's HTML with its ``<math>`` element named by ``spoken``."""
    found = _MATH.search(rendered)
    if not found:
        return rendered
    label = html.escape(spoken(found[0]), quote=True)
    return (
        rendered[: found.start()]
        + found[0].replace("<math", f'<math aria-label="{label}"', 1)
        + rendered[found.end() :]
    )


# KaTeX's classes in the rendered HTML -> the font file they make the browser load (see katex.min.css)
_FONTS = {
    "katex": "KaTeX_Main-Regular",
    "mathnormal": "KaTeX_Math-Italic",
    "mathbf": "KaTeX_Main-Bold",
    "textbf": "KaTeX_Main-Bold",
    "mathit": "KaTeX_Main-Italic",
    "textit": "KaTeX_Main-Italic",
    "boldsymbol": "KaTeX_Math-BoldItalic",
    "amsrm": "KaTeX_AMS-Regular",
    "mathbb": "KaTeX_AMS-Regular",
    "textbb": "KaTeX_AMS-Regular",
    "mathcal": "KaTeX_Caligraphic-Regular",
    "mathfrak": "KaTeX_Fraktur-Regular",
    "textfrak": "KaTeX_Fraktur-Regular",
    "mathscr": "KaTeX_Script-Regular",
    "textscr": "KaTeX_Script-Regular",
    "mathsf": "KaTeX_SansSerif-Regular",
    "textsf": "KaTeX_SansSerif-Regular",
    "mathtt": "KaTeX_Typewriter-Regular",
    "texttt": "KaTeX_Typewriter-Regular",
}
# ... and the two that need a pair of classes on one element: big delimiters, big operators (sums)
_PAIRS = {
    ("delimsizing", "size1"): "KaTeX_Size1-Regular",
    ("delimsizing", "size2"): "KaTeX_Size2-Regular",
    ("delimsizing", "size3"): "KaTeX_Size3-Regular",
    ("delimsizing", "size4"): "KaTeX_Size4-Regular",
    ("op-symbol", "small-op"): "KaTeX_Size1-Regular",
    ("op-symbol", "large-op"): "KaTeX_Size2-Regular",
}
_CLASS = re.compile(r'class="([^"]*)"')


def fonts_used(page_html):
    """The KaTeX font files (``"KaTeX_Main-Regular"``, ...) the math of ``page_html`` makes the browser load.

    The page preloads them: text laid out in a fallback font moved when they
    arrived (layout shift). The built stylesheet declares them ``font-display:
    optional`` (``course_files.katex_fonts_optional``), so a preloaded font is
    used from the first paint, and one that comes late is never swapped in.
    """
    if 'class="katex"' not in page_html:
        return []
    found = set()
    for m in _CLASS.finditer(page_html):
        classes = set(m[1].split())
        found.update(font for cls, font in _FONTS.items() if cls in classes)
        found.update(font for pair, font in _PAIRS.items() if classes.issuperset(pair))
    return sorted(found)


class MathError(Exception):
    """A formula KaTeX cannot render, or KaTeX missing: one sentence for the build's error."""


def find_katex(*roots):
    """The ``node_modules/katex`` directory under the first of ``roots`` that has one (then the checkout).

    Raises
    ------
    MathError
        When none has it, or ``node`` is not installed.
    """
    for root in (*roots, _CHECKOUT):
        candidate = Path(root) / "node_modules" / "katex"
        if (candidate / "package.json").is_file():
            break
    else:
        raise MathError("KaTeX is not installed: run `npm ci` in the checkout (`make site` does it)")
    if shutil.which("node") is None:
        raise MathError("node is not installed (Debian: apt-get install nodejs); the site renders its math with it")
    return candidate


def katex_version(katex_dir):
    """The version string of the KaTeX package in ``katex_dir``."""
    return json.loads((Path(katex_dir) / "package.json").read_text(encoding="utf-8"))["version"]


def check_stylesheet(katex_dir, css):
    """Raise MathError unless the stylesheet ``css`` the pages load is that of the KaTeX that renders them.

    KaTeX's HTML and its CSS change together between versions; ``katex.min.css``
    names its version in ``.katex-version::after``.
    """
    version = katex_version(katex_dir)
    text = Path(css).read_text(encoding="utf-8") if Path(css).is_file() else ""
    if f'content:"{version}"' not in text:
        raise MathError(
            f"{css} is not KaTeX {version}'s stylesheet, the version that renders the math: run `make vendor`"
        )


class Renderer:
    """KaTeX in one ``node`` process; ``render`` turns ``(tex, display)`` pairs into HTML, remembering each."""

    def __init__(self, katex_dir):
        self.katex_dir = Path(katex_dir).resolve()
        self._process = None
        self._done = {}  # (tex, display) -> html

    def _start(self):
        self._process = subprocess.Popen(
            ["node", str(_SCRIPT), str(self.katex_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def render(self, formulas):
        """HTML for each ``(tex, display)`` pair, in order.

        Raises
        ------
        MathError
            Naming the first formula KaTeX rejects.
        """
        todo = list(dict.fromkeys(f for f in formulas if f not in self._done))
        if todo:
            if self._process is None or self._process.poll() is not None:
                self.close()
                self._start()
            try:
                self._process.stdin.write(json.dumps(todo) + "\n")
                self._process.stdin.flush()
                line = self._process.stdout.readline()
            except OSError:
                line = ""
            if not line:
                raise MathError("the KaTeX process stopped (see the error above)")
            for formula, result in zip(todo, json.loads(line)):
                if "error" in result:
                    raise MathError(f"KaTeX cannot render {formula[0]!r}: {result['error']}")
                self._done[formula] = _label(result["html"])
        return [self._done[f] for f in formulas]

    def close(self):
        """Stop the node process."""
        if self._process is not None:
            try:
                self._process.stdin.close()
            except OSError:  # it had died: nothing to flush
                pass
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()
        self._process = None


_renderers = {}


def renderer(katex_dir):
    """The one ``Renderer`` of this process for ``katex_dir`` (kept across ``mkdocs serve`` rebuilds)."""
    key = Path(katex_dir).resolve()
    if key not in _renderers:
        _renderers[key] = Renderer(key)
        atexit.register(_renderers[key].close)
    return _renderers[key]


def render_arithmatex(page_html, render):
    """Replace every arithmatex formula of ``page_html`` with its KaTeX HTML.

    Parameters
    ----------
    page_html : str
    render : callable
        ``render(list of (tex, display)) -> list of str``, e.g. ``Renderer.render``.
    """
    matches = list(_ARITHMATEX.finditer(page_html))
    if not matches:
        return page_html
    formulas = [
        (html.unescape(m["display"] if m["display"] is not None else m["inline"]).strip(), m["display"] is not None)
        for m in matches
    ]
    rendered = iter(render(formulas))
    return _ARITHMATEX.sub(lambda m: f'<{m["tag"]} class="arithmatex">{next(rendered)}</{m["tag"]}>', page_html)


def _cell_formulas(cell_html):
    """``(start, end, tex, display)`` of each ``$...$`` / ``$$...$$`` in a cell's text, outside code and tags."""
    found, pos = [], 0
    for skip in [*_SKIP.finditer(cell_html), None]:
        end = skip.start() if skip else len(cell_html)
        for m in _DOLLARS.finditer(cell_html, pos, end):
            display = m["display"] is not None
            tex = html.unescape(m["display"] if display else m["inline"]).strip()
            found.append((m.start(), m.end(), tex, display))
        pos = skip.end() if skip else end
    return found


def render_notebook_markdown(page_html, render):
    """Render the ``$``-delimited math in the Markdown cells of a notebook preview.

    Each formula gets the same wrapper as on the Markdown pages
    (``span.arithmatex`` inline, ``div.arithmatex`` display), so one stylesheet
    serves both.
    """

    out, last = [], 0
    for opening in _MARKDOWN_CELL.finditer(page_html):
        start = end = opening.end()
        if start < last:  # nested in a cell already done
            continue
        depth = 1
        for tag in _DIV.finditer(page_html, start):
            depth += 1 if tag[0] == "<div" else -1
            if depth == 0:
                end = tag.start()
                break
        else:
            end = len(page_html)
        body = page_html[start:end]
        spots = _cell_formulas(body)
        rendered = render([(tex, display) for _, _, tex, display in spots])
        out.append(page_html[last:start])
        done = 0
        for (a, b, _, display), piece in zip(spots, rendered):
            tag = "div" if display else "span"
            out += [body[done:a], f'<{tag} class="arithmatex">{piece}</{tag}>']
            done = b
        out.append(body[done:])
        last = end
    out.append(page_html[last:])
    return "".join(out)
