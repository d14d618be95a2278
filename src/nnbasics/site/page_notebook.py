"""Convert a concept page (Markdown with markdown-exec blocks) into a Jupyter notebook.

Used by ``course_files.py`` at build time for the "download this page as a
notebook" links. Prose becomes Markdown cells and every executed
``python exec="on"`` block becomes a code cell, in page order; what only the
site understands is rewritten for Jupyter:

- Material admonitions (``!!! note "Title"``) become block quotes;
- mkdocs-quiz quizzes become a question, its options, and the answers with
  their explanations in a collapsed ``<details>``;
- links to other pages keep their text (the notebook has no site around it), and
  the page's buttons and download links are dropped;
- attribute lists (``{ .md-button }``) and icon shortcodes are dropped.

The code cells are not executed here: ``nnbasics.site.figures.show`` displays the
figures when the learner runs them in Jupyter.
"""

import re
import textwrap

import nbformat

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_EXEC = re.compile(r'^python\b.*\bexec="(on|1|true)"')
_ADMONITION = re.compile(r'^(?:!!!|\?\?\?\+?) *(?P<kind>[\w-]+)(?: +"(?P<title>[^"]*)")? *$')
_PAGE_LINK = re.compile(r"\[(?P<text>[^\]]+)\]\((?!https?://)(?P<target>[^)\s]+)\)")
_ATTRS = re.compile(r"\{ *[.#:][^}\n]*\}")
_BUTTONS = re.compile(r"^\s*(?:\[[^\]]*\]\([^)]*\)\{[^}]*\.md-button[^}]*\}\s*)+$")
_DOWNLOAD_LINK = re.compile(r"\s*\(\[[^\]]*\]\(downloads/[^)]*\)\)|\[[^\]]*\]\(downloads/[^)]*\)(?:\{[^}]*\})?")
_ICON = re.compile(r":(?:material|octicons|fontawesome)-[\w-]+:\s*")


def _fence_end(lines, i, fence):
    """Index of the line closing the code fence opened at ``lines[i]`` (``len(lines)`` if none does)."""
    close = re.compile(rf"^ *{re.escape(fence['fence'])}\s*$")
    j = i + 1
    while j < len(lines) and not close.match(lines[j]):
        j += 1
    return j


def _split_front_matter(text):
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[end + 5 :]
    return text


def _quiz_to_markdown(lines):
    """The body of a ``<quiz>`` block as plain Markdown."""
    question, options, answers, rest = [], [], [], []
    current = None
    for line in lines:
        m = re.match(r"^\s*- \[(?P<mark>[ xX])\] (?P<text>.*)$", line)
        if m:
            current = [m["text"], m["mark"].lower() == "x", []]
            options.append(current)
            continue
        f = re.match(r"^\s*>\s?(.*)$", line)
        if f and current is not None:
            current[2].append(f[1])
            continue
        (rest if options else question).append(line)
        current = None if options else current
    out = ["**Self-check.** " + " ".join(s.strip() for s in question if s.strip()), ""]
    out += [f"- {text}" for text, _, _ in options]
    out += ["", "<details><summary>Answer</summary>", ""]
    for text, right, feedback in options:
        verdict = "**Right**" if right else "Wrong"
        why = " ".join(s.strip() for s in feedback)
        answers.append(f"- {verdict}: {text}. {why}".rstrip())
    out += answers
    tail = "\n".join(rest).strip()
    if tail:
        out += ["", tail]
    out += ["", "</details>"]
    return out


def _admonition_parts(kind, title, body):
    """An admonition as ``("md", lines)`` quote parts and ``("code", source)`` parts.

    A block executed inside the box (a sentence whose numbers come from the
    core) becomes a code cell between two parts of the quote.
    """
    lines = textwrap.dedent("\n".join(body)).strip("\n").splitlines()
    parts, quoted = [], [f"> **{title or kind.capitalize()}**", ">"]
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence and _EXEC.match(fence["info"].strip()):
            j = _fence_end(lines, i, fence)
            parts.append(("md", quoted))
            parts.append(("code", textwrap.dedent("\n".join(lines[i + 1 : j])).strip("\n")))
            quoted, i = [], j + 1
            continue
        quoted.append(f"> {lines[i]}".rstrip())
        i += 1
    parts.append(("md", quoted))
    return parts


def _clean_prose(text):
    text = _ICON.sub("", text)
    text = _ATTRS.sub("", text)
    text = _PAGE_LINK.sub(lambda m: m["text"] if not m["target"].startswith("#") else m[0], text)
    return text


def page_to_notebook(text):
    """Convert the Markdown source of a page into notebook JSON.

    Parameters
    ----------
    text : str
        The page's Markdown, front matter included.

    Returns
    -------
    str
        A version-4 notebook, as written by ``nbformat.writes``.
    """
    lines = _split_front_matter(text).splitlines()
    cells, prose = [], []

    def flush():
        body = _clean_prose("\n".join(prose)).strip()
        body = re.sub(r"\n{3,}", "\n\n", body)
        if body:
            cells.append(nbformat.v4.new_markdown_cell(body))
        prose.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence and _EXEC.match(fence["info"].strip()):
            j = _fence_end(lines, i, fence)
            flush()
            code = textwrap.dedent("\n".join(lines[i + 1 : j])).strip("\n")
            cells.append(nbformat.v4.new_code_cell(code))
            i = j + 1
            continue
        if fence:  # a code block shown as is (shell commands): keep it in the prose, untouched
            j = _fence_end(lines, i, fence)
            prose.extend(lines[i : j + 1])
            i = j + 1
            continue
        if line.strip() == "<quiz>":
            j = lines.index("</quiz>", i) if "</quiz>" in lines[i:] else len(lines)
            prose.extend(["", *_quiz_to_markdown(lines[i + 1 : j]), ""])
            i = j + 1
            continue
        adm = _ADMONITION.match(line)
        if adm:
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j].startswith("    ")):
                j += 1
            for kind, part in _admonition_parts(adm["kind"], adm["title"], lines[i + 1 : j]):
                if kind == "code":
                    flush()
                    cells.append(nbformat.v4.new_code_cell(part))
                else:
                    prose.extend(["", *part, ""])
            i = j
            continue
        if _BUTTONS.match(line):  # a row of buttons (download, exercise) means nothing inside the download
            i += 1
            continue
        line = _DOWNLOAD_LINK.sub("", line)
        prose.append(line)
        i += 1
    flush()
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            },
            "language_info": {"name": "python"},
        },
    )
    for n, cell in enumerate(nb.cells):  # stable ids: the same page gives the same bytes
        cell.id = f"cell-{n}"
    nbformat.validate(nb)
    return nbformat.writes(nb)
