"""The site's small parts on their own: page-to-notebook conversion, SVG figures, asset vendoring."""

import io
import json
import re
import tarfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
import vendor_assets

from nnbasics.site import figures as plots
from nnbasics.site import page_notebook

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def converter():
    return page_notebook


PAGE = """---
title: t
---
# A page

Some prose with $x^2$ and a [link](other.md) and [an anchor](#here).

[:material-download: This page as a notebook](downloads/a.ipynb){ .md-button } [Ex](exercises/a.ipynb){ .md-button }

Do [exercise 01](exercises/a.ipynb) ([download it](downloads/a.ipynb)), then
grade it.

```python exec="on" session="s" source="above" result="text"
x = 1
print(x)
```

```bash
nnbasics grade a.ipynb
```

!!! warning "Common misconceptions"

    **Claim.** Refuted.

<quiz>
What is 1 + 1?
- [x] 2
  > Right, arithmetic.
- [ ] 3
  > Off by one.
</quiz>
"""


def test_page_to_notebook_converts_site_syntax(converter):
    nb = nbformat.reads(converter.page_to_notebook(PAGE), as_version=4)
    nbformat.validate(nb)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "code", "markdown"]
    assert nb.cells[1].source == "x = 1\nprint(x)"
    first, last = nb.cells[0].source, nb.cells[2].source
    assert "title: t" not in first  # front matter dropped
    assert "a link and [an anchor](#here)" in first  # page links keep their text, anchors stay
    assert "downloads/" not in first and "md-button" not in first and "Ex\n" not in first
    assert "Do exercise 01, then\ngrade it." in first  # a sentence keeps its words, not the download link
    assert "```bash\nnnbasics grade a.ipynb\n```" in last  # shown code stays as it is
    assert "> **Common misconceptions**\n>\n> **Claim.** Refuted." in last
    assert "**Self-check.** What is 1 + 1?" in last
    assert "- **Right**: 2. Right, arithmetic." in last and "- Wrong: 3. Off by one." in last
    assert "<quiz>" not in last and "[x]" not in last


def test_page_to_notebook_is_deterministic(converter):
    assert converter.page_to_notebook(PAGE) == converter.page_to_notebook(PAGE)


def _small_figure():
    fig, ax = plots.figure()
    ax.plot(np.arange(5), np.arange(5) ** 2, label="squares")
    ax.set_xlabel("x")
    ax.legend()
    return fig


def test_to_svg_follows_the_theme_and_scales():
    svg = plots.to_svg(_small_figure(), "demo")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert not re.search(r"<svg[^>]* width=", svg) and "viewBox" in svg
    assert "currentColor" in svg and plots.INK not in svg and "#000000" not in svg
    assert "<style" not in svg  # a <style> in inline SVG would restyle the whole page
    ids = re.findall(r' id="([^"]+)"', svg)
    assert ids and all(i.startswith("demo-") for i in ids)
    assert "<text" in svg  # real text, so it takes the page's colour
    # a text alternative with quotes and markup is escaped into the attribute
    tricky = plots.to_svg(_small_figure(), "demo", alt='5 < 6 & "quoted"')
    assert 'aria-label="5 &lt; 6 &amp; &quot;quoted&quot;"' in tricky


def test_to_svg_is_deterministic():
    assert plots.to_svg(_small_figure(), "same") == plots.to_svg(_small_figure(), "same")


def test_show_prints_through_the_callers_print():
    captured = []
    namespace = {"print": captured.append, "plots": plots, "fig": _small_figure()}
    exec("plots.show(fig, 'shown')", namespace)  # how markdown-exec runs a block: its own print in globals
    assert len(captured) == 1 and captured[0].startswith('<svg data-figure="shown" aria-label="shown"')
    namespace["alt"] = "A parabola: y = x² for x from 0 to 4."
    exec("plots.show(fig, 'named', alt)", namespace)
    assert captured[1].startswith(f'<svg data-figure="named" aria-label="{namespace["alt"]}"')
    namespace["markup"] = "<svg></svg>"
    exec("plots.show(markup)", namespace)
    assert captured[2] == "<svg></svg>"


def test_figures_drawn_in_the_background_are_the_same_bytes(monkeypatch):
    """The site build's second process draws each figure exactly as ``to_svg`` does in the build's own."""
    monkeypatch.setattr(plots, "_background", {"pool": None, "build": 0, "jobs": []})
    try:
        plots.draw_in_background()
        captured = []
        namespace = {"print": captured.append, "plots": plots, "fig": _small_figure()}
        exec("plots.show(fig, 'far', 'A parabola.')", namespace)
        exec("plots.show('<svg>drawn</svg>')", namespace)  # markup is printed as it is
        assert re.fullmatch(r"<!--nnbasics-figure:1:0-->", captured[0]) and captured[1] == "<svg>drawn</svg>"
        page = f"<p>before</p>\n{captured[0]}\n<p>after</p>"
        expected = plots.to_svg(_small_figure(), "far", "A parabola.")
        assert plots.fill_in(page) == f"<p>before</p>\n{expected}\n<p>after</p>"
        # a figure the worker cannot draw is named in one sentence
        broken = _small_figure()
        broken.savefig = None  # pickled along: the worker's savefig call fails
        exec("plots.show(fig, 'broken')", {**namespace, "fig": broken})
        with pytest.raises(plots.FigureError, match=r"figure 'broken' could not be drawn"):
            plots.fill_in(captured[2])
        plots.draw_in_background()  # the next build: the last build's placeholders are not silently reused
        with pytest.raises(plots.FigureError, match="earlier build"):
            plots.fill_in(captured[0])
    finally:
        plots._background["pool"].shutdown()


def _fake_package(tmp_path, files):
    root = tmp_path / "package"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_copy_package_takes_only_the_listed_files(tmp_path):
    root = _fake_package(
        tmp_path,
        {
            "LICENSE": "MIT",
            "dist/katex.min.js": "js",
            "dist/fonts/A.woff2": "w2",
            "dist/fonts/A.ttf": "ttf",
            "src/big.js": "x",
        },
    )
    spec = {"files": ["dist/katex.min.js", "dist/fonts/*.woff2"], "strip": "dist/"}
    copied = vendor_assets.copy_package(root, spec, tmp_path / "out")
    assert sorted(copied) == ["fonts/A.woff2", "katex.min.js"]
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()) == [
        "LICENSE",
        "fonts/A.woff2",
        "katex.min.js",
    ]
    with pytest.raises(RuntimeError, match="no file matches"):
        vendor_assets.copy_package(root, {"files": ["dist/missing.js"], "strip": ""}, tmp_path / "out2")


def test_readme_records_versions_and_licences():
    text = vendor_assets.readme([("katex", {"version": "0.19.1", "license": "MIT"}, ["katex.min.js", "fonts/A.woff2"])])
    assert "| katex | 0.19.1 | MIT (`katex/LICENSE`) | `katex.min.js`, 1 WOFF2 fonts in `fonts/` |" in text


def test_vendored_assets_match_the_pinned_versions():
    readme = (ROOT / "docs" / "assets" / "vendor" / "README.md").read_text()
    for name, spec in vendor_assets.PACKAGES.items():
        assert f"| {name} | {spec['version']} |" in readme
    katex_css = (ROOT / "docs" / "assets" / "vendor" / "katex" / "katex.min.css").read_text()
    assert vendor_assets.PACKAGES["katex"]["version"] in katex_css


def test_fetch_unpacks_what_npm_pack_names(tmp_path, monkeypatch):
    """fetch() runs `npm pack NAME@VERSION --json` and unpacks the tarball it names (npm faked, no network)."""
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:gz") as tar:
        for rel, text in {
            "package/package.json": '{"name": "demo", "version": "1.2.3"}',
            "package/LICENSE": "MIT",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    calls = []

    def fake_run(cmd, cwd, **kwargs):
        calls.append(cmd)
        (Path(cwd) / "demo-1.2.3.tgz").write_bytes(payload.getvalue())

        class Done:
            returncode, stdout, stderr = 0, json.dumps([{"filename": "demo-1.2.3.tgz"}]), ""

        return Done()

    monkeypatch.setattr(vendor_assets.subprocess, "run", fake_run)
    root, meta = vendor_assets.fetch("demo", "1.2.3", tmp_path)
    assert calls[0][:3] == ["npm", "pack", "demo@1.2.3"]
    assert meta["version"] == "1.2.3" and (root / "LICENSE").read_text() == "MIT"


def test_vendor_assets_usage_errors_are_one_sentence(tmp_path, capsys):
    assert vendor_assets.main([str(tmp_path / "nope")]) == vendor_assets.USAGE_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a directory" in err and "Traceback" not in err
    assert vendor_assets.main(["a", "b"]) == vendor_assets.USAGE_ERROR


def test_a_staged_exercise_keeps_its_time_until_it_changes(tmp_path, monkeypatch):
    """An unchanged exercise is staged with its last copy's time, so that a dirty rebuild (`make serve`) skips it."""
    from nnbasics.site import course_files

    monkeypatch.setattr(course_files, "_staging", [str(tmp_path / "staging")])
    monkeypatch.setattr(course_files, "_staged", {})
    (tmp_path / "staging").mkdir()
    source = tmp_path / "01_neuron.ipynb"
    source.write_bytes((ROOT / "exercises" / "01_neuron" / "01_neuron.ipynb").read_bytes())
    staged = course_files._stage(source, "01_neuron")
    text, _ = course_files._staged["01_neuron"]
    course_files._staged["01_neuron"] = (text, 10**18)  # as if the last build staged it in 2001
    staged.unlink()  # the end of a build removes the copies
    assert course_files._stage(source, "01_neuron") == staged
    assert staged.stat().st_mtime_ns == 10**18 and staged.read_text(encoding="utf-8") == text
    nb = json.loads(source.read_text(encoding="utf-8"))
    nb["cells"][0]["source"] = ["# edited\n"]
    source.write_text(json.dumps(nb), encoding="utf-8")
    course_files._stage(source, "01_neuron")
    assert staged.stat().st_mtime_ns > 10**18  # written now: the page is built again
    assert json.loads(staged.read_text(encoding="utf-8"))["cells"][0]["source"] == ["# edited\n"]


def test_the_figure_worker_ends_with_the_build_process():
    """Stopped by a signal (the way `mkdocs serve` is often stopped), the build leaves no worker behind."""
    import subprocess
    import sys

    import psutil

    code = (
        "import os, time\n"
        "from nnbasics.site import figures\n"
        "figures.draw_in_background()\n"
        "print(figures._background['pool'].submit(os.getpid).result(), flush=True)\n"
        "time.sleep(120)\n"
    )
    build = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        worker = psutil.Process(int(build.stdout.readline()))
    finally:
        build.terminate()
        build.wait(timeout=30)
        build.stdout.close()
    try:
        worker.wait(timeout=30)  # returns once the worker has exited
    except psutil.TimeoutExpired:
        worker.kill()
        raise AssertionError("the figure worker outlived the build's process") from None
    assert not worker.is_running()
