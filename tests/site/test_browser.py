"""The built site in headless Chromium: offline, math, figures, search, quizzes, phone screens, dark mode."""

import pytest

from nnbasics.assignments import ASSIGNMENTS, page_path

pytestmark = pytest.mark.browser

CONCEPT_PAGES = [page_path(a) for a in ASSIGNMENTS]
PAGES = ["", *CONCEPT_PAGES, "exercises/", *[f"exercises/{a}/" for a in ASSIGNMENTS], "instructors/", "api/"]

# Text of the page's article without code blocks, where raw TeX delimiters would mean unrendered math.
_PROSE_TEXT = """() => {
  const article = document.querySelector("article").cloneNode(true);
  article.querySelectorAll("pre, code, .katex, script, .quiz").forEach((el) => el.remove());
  return article.innerText;
}"""


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_offline_with_math_and_figures(open_page, path):
    """What every page owes: no errors, no request to another host, math rendered, figures shown."""
    page, watch = open_page(path)
    name = path or "home"
    problems = [f"{name}: {e}" for e in watch.errors]
    problems += [f"{name}: request to another host: {u}" for u in watch.external]
    assert page.locator("article").count() == 1, f"{name}: no article"
    if page.locator("article .arithmatex, article .katex").count():
        if page.locator("article .katex").count() == 0:
            problems.append(f"{name}: math left unrendered")
        errors = page.locator("article .katex-error")
        if errors.count():
            problems.append(f"{name}: KaTeX could not render {errors.first.inner_text()!r}")
    prose = page.evaluate(_PROSE_TEXT)
    problems += [f"{name}: raw {raw} left in the text" for raw in ("$$", "\\[", "\\(") if raw in prose]
    broken = page.evaluate("[...document.images].filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src)")
    problems += [f"{name}: image not loaded: {src}" for src in broken]
    if path in CONCEPT_PAGES:
        widths = page.evaluate(
            "[...document.querySelectorAll('article svg.nn-figure')].map((s) => s.getBoundingClientRect().width)"
        )
        if not widths or min(widths) < 100:
            problems.append(f"{name}: figures missing or collapsed: widths {widths}")
        if page.locator("article .quiz").count() < 4:
            problems.append(f"{name}: fewer than 4 quiz questions")
        cut = page.evaluate(
            "[...document.querySelectorAll('article .katex-display')]"
            ".filter((e) => e.scrollWidth > e.clientWidth + 2).map((e) => e.textContent.slice(0, 40))"
        )
        problems += [f"{name}: a formula is wider than the page (split it): {t!r}" for t in cut]
        title = page.locator("article .admonition.warning .admonition-title", has_text="Common misconceptions")
        if title.count() != 1:
            problems.append(f"{name}: no 'Common misconceptions' admonition")
    assert not problems, "\n".join(problems)


def test_chain_rule_page_shows_the_autograd_graph(open_page):
    page, _ = open_page("chain-rule/")
    graph = page.locator("article .nn-graph svg[aria-label^='Computational graph of L']")
    assert graph.count() == 1
    box = graph.bounding_box()
    assert box["width"] > 200 and box["height"] > 50
    # the drawing carries the forward values and gradients the code computed (x has grad (1 - tanh²v)(y + 1))
    assert "grad 0.4575" in graph.evaluate("(e) => e.textContent")


def test_search_finds_xavier(open_page):
    page, watch = open_page("")
    page.locator("input.md-search__input").click()
    page.keyboard.type("Xavier")
    page.locator(".md-search-result__item").first.wait_for(timeout=10_000)
    links = page.eval_on_selector_all(".md-search-result__item a", "(as) => as.map((a) => a.href)")
    assert any("/initialization/" in href for href in links), links
    assert not watch.errors and not watch.external


def test_quiz_answer_click_shows_feedback(open_page):
    page, watch = open_page("neuron/")
    quiz = page.locator(".quiz").first
    feedback = quiz.locator(".quiz-feedback")
    assert feedback.is_hidden()
    wrong = quiz.locator("input[type=radio]:not([data-correct])").first
    quiz.locator(f"label[for='{wrong.get_attribute('id')}']").click()
    feedback.wait_for(state="visible", timeout=5_000)
    text = feedback.inner_text()
    # the explanation written for that wrong answer (the "bias outside" misconception) is shown
    assert "outside the activation" in text
    assert "\\" not in text, f"raw TeX in the feedback: {text!r}"
    # the chosen answer is marked wrong and the right one right
    assert wrong.evaluate("(e) => e.parentElement.className") == "wrong"
    assert quiz.locator("input[data-correct]").evaluate("(e) => e.parentElement.className") == "correct"
    assert not watch.errors


@pytest.mark.parametrize("path", ["", *CONCEPT_PAGES, "exercises/", "exercises/01_neuron/", "instructors/", "api/"])
def test_phone_screen_has_no_horizontal_overflow(open_page, path):
    page, _ = open_page(path, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= client_width, f"{path or 'home'} is {scroll_width}px wide on a {client_width}px screen"


def test_dark_mode_toggle_switches_scheme_and_figures_follow(open_page):
    page, watch = open_page("initialization/", color_scheme="light")
    body = page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "default"
    figure_colour = "() => getComputedStyle(document.querySelector('svg.nn-figure')).color"
    light_ink = page.evaluate(figure_colour)
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    dark_ink = page.evaluate(figure_colour)
    assert light_ink != dark_ink, "figures must take the theme's text colour"
    # and back again
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'default'")
    assert not watch.errors
