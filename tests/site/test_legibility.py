"""The concept pages' figures, graph and code as Chromium renders them, on a 1280-px desktop and a 390-px phone.

Measured, not assumed: the rendered size of every figure's text (its font
size times the SVG's scale on screen), that no text sticks out of its figure,
that the graph's text stays inside its boxes, that no code block scrolls
sideways at 1280 px, and that every plot line colour has 3:1 contrast against
the page background Chromium computes in each theme.
"""

import pytest
from testkit.wcag import contrast, over

from nnbasics.assignments import ASSIGNMENTS, page_path

pytestmark = pytest.mark.browser

CONCEPT_PAGES = [page_path(a) for a in ASSIGNMENTS]
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

# Per text element of the article's figures: its rendered font size in px and whether it lies inside its SVG.
_FIGURE_TEXT = """(selector) => [...document.querySelectorAll(selector)].flatMap((svg) => {
  const frame = svg.getBoundingClientRect();
  return [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim()).map((t) => {
    const box = t.getBoundingClientRect();
    const scale = t.getScreenCTM().a;  // SVG user units to CSS px (no rotation in these figures' text scale)
    return {
      figure: svg.dataset.figure || "graph", text: t.textContent.trim(),
      px: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(scale, t.getScreenCTM().b),
      inside: box.left >= frame.left - 1 && box.right <= frame.right + 1
        && box.top >= frame.top - 1 && box.bottom <= frame.bottom + 1,
    };
  });
})"""

_SMALLEST = {}  # (viewport, page) -> smallest figure text in px, for the report


def _smallest(rows):
    return min(rows, key=lambda r: r["px"])


@pytest.mark.parametrize("path", CONCEPT_PAGES)
@pytest.mark.parametrize(("device", "options", "minimum"), [("desktop", DESKTOP, 10), ("phone", PHONE, 9)])
def test_figure_text_is_legible_and_inside(open_page, path, device, options, minimum):
    page, _ = open_page(path, **options)
    rows = page.evaluate(_FIGURE_TEXT, "article svg.nn-figure")
    assert rows, f"{path}: no figure text found"
    small = _smallest(rows)
    _SMALLEST[device, path] = small["px"]
    print(f"{device} {path}: smallest figure text {small['px']:.2f} px ({small['figure']}: {small['text']!r})")
    assert small["px"] >= minimum, f"{path} on a {device}: {small}"
    outside = [r for r in rows if not r["inside"]]
    assert not outside, f"{path} on a {device}: text outside its figure: {outside[:5]}"


def test_graph_text_is_12px_and_stays_in_its_boxes(open_page):
    page, _ = open_page("chain-rule/", **DESKTOP)
    rows = page.evaluate(_FIGURE_TEXT, "article .nn-graph svg")
    assert len(rows) >= 15  # 5 values of 3 lines, 3 operations
    small = _smallest(rows)
    print(f"desktop chain-rule/: smallest graph text {small['px']:.2f} px")
    assert small["px"] >= 12, small
    # each node's text inside its own outline (a wider browser font than dot's metrics would spill over)
    spill = page.evaluate(
        """() => [...document.querySelectorAll("article .nn-graph svg g.node")].flatMap((g) => {
          const outline = g.querySelector("path, polygon, ellipse").getBoundingClientRect();
          return [...g.querySelectorAll("text")].filter((t) => {
            const b = t.getBoundingClientRect();
            return b.left < outline.left || b.right > outline.right || b.top < outline.top || b.bottom > outline.bottom;
          }).map((t) => t.textContent);
        })"""
    )
    assert not spill, f"graph text outside its node: {spill}"
    # and the drawing shows the gradients the page computed: dL/dx = (1 - tanh²(xy + x)) (y + 1) at x = 0.8, y = 0.5
    texts = " ".join(r["text"] for r in rows)
    assert "grad 0.4575" in texts and "grad 0.244" in texts


@pytest.mark.parametrize("path", CONCEPT_PAGES)
def test_no_code_block_scrolls_sideways_at_1280px(open_page, path):
    page, _ = open_page(path, **DESKTOP)
    wide = page.evaluate(
        """() => [...document.querySelectorAll("article pre > code")]
          .filter((c) => c.scrollWidth > c.clientWidth + 1)
          .map((c) => [c.scrollWidth, c.clientWidth, c.textContent.split("\\n").reduce((a, b) => a.length > b.length ? a : b)])"""
    )
    assert page.locator("article pre > code").count() > 3
    assert not wide, f"{path}: code blocks wider than the column: {wide}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_plot_line_colours_contrast_with_the_real_background(open_page, scheme):
    """Every stroke of every figure, in the colour Chromium computes, against the page's computed background."""
    colours, backgrounds = {}, set()
    for path in CONCEPT_PAGES:
        page, _ = open_page(path, color_scheme=scheme, **DESKTOP)
        expected = "slate" if scheme == "dark" else "default"
        assert page.locator("body").get_attribute("data-md-color-scheme") == expected
        backgrounds.add(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        found = page.evaluate(
            """() => [...document.querySelectorAll("article svg.nn-figure path, article svg.nn-figure use")]
              .map((e) => { const s = getComputedStyle(e); return [s.stroke, s.strokeOpacity, s.fill, s.fillOpacity, e.tagName]; })"""
        )
        for stroke, stroke_opacity, fill, fill_opacity, tag in found:
            if stroke not in ("none", "") and float(stroke_opacity) >= 0.99:
                colours.setdefault(stroke, path)
            if tag == "use" and fill not in ("none", "") and float(fill_opacity) >= 0.99:  # markers
                colours.setdefault(fill, path)
    assert len(backgrounds) == 1, backgrounds
    background = backgrounds.pop()
    assert background == ("rgb(30, 33, 41)" if scheme == "dark" else "rgb(255, 255, 255)")
    ratios = {c: round(contrast(over(c, background), background), 2) for c in colours}  # text ink has alpha
    print(f"{scheme} ({background}): lowest line contrast {min(ratios.values()):.2f}, {len(ratios)} colours")
    assert len(ratios) >= 6  # the palette's lines and the text colour
    low = {c: (r, colours[c]) for c, r in ratios.items() if r < 3}
    assert not low, f"colours below 3:1 on {background}: {low}"
