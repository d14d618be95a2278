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
        unnamed = page.locator("article .katex:not(:has(.katex-mathml math[aria-label]))")
        if unnamed.count():
            problems.append(f"{name}: {unnamed.count()} formulas without MathML and a name")
    scripts = page.evaluate("[...document.scripts].map((s) => s.src).filter((s) => /katex|mathjax|mermaid/i.test(s))")
    problems += [f"{name}: loads a math script, the math is rendered at build time: {s}" for s in scripts]
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
    # the wrong answer written for the "bias outside" misconception (options are shuffled: found by its explanation)
    wrong = quiz.locator("div:has(> .answer-feedback:text('outside the activation')) > input:not([data-correct])")
    quiz.locator(f"label[for='{wrong.get_attribute('id')}']").click()
    assert feedback.is_hidden(), "choosing an option must not answer: the Submit button does"
    quiz.locator("button[type=submit]").click()
    feedback.wait_for(state="visible", timeout=5_000)
    text = feedback.inner_text()
    # the explanation written for that wrong answer (the "bias outside" misconception) is shown
    assert "outside the activation" in text
    assert "\\" not in text, f"raw TeX in the feedback: {text!r}"
    # ... and the explanation of the right answer, named in words, not by colour only
    right = quiz.locator("input[data-correct]")
    right_why = right.locator("xpath=..").locator(".answer-feedback").evaluate("(e) => e.innerHTML").strip()
    shown = feedback.locator(".quiz-feedback-item-content").evaluate_all("(es) => es.map((e) => e.innerHTML.trim())")
    assert "Not right:" in text and "The right answer:" in text
    assert right_why and right_why in shown
    # the chosen answer is marked wrong and the right one right
    assert wrong.evaluate("(e) => e.parentElement.className") == "wrong"
    assert right.evaluate("(e) => e.parentElement.className") == "correct"
    assert not watch.errors


def _focused(page):
    return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.className)")


def _tab_to(page, selector, limit):
    """Press Tab until the focused element matches ``selector`` (at most ``limit`` times)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"Tab did not reach {selector} (focus on {_focused(page)})")


def _arrow_to(page, right, limit):
    """Press ArrowDown in a radio group until the focused option is the right one (or a wrong one), then Space."""
    for _ in range(limit):
        if page.evaluate("document.activeElement.hasAttribute('data-correct')") == right:
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    return page.evaluate("document.activeElement.id")


def test_quiz_by_keyboard_only(open_page):
    """Tab into a quiz, choose with the arrows (which must not answer), Space, Submit with Enter, then Try Again."""
    page, watch = open_page("neuron/")
    quiz = page.locator(".quiz").first
    options = quiz.locator("input[name=answer]")
    _tab_to(page, "#quiz-0 input[name=answer]", 300)  # from the top of the page
    page.keyboard.press("ArrowDown")  # moves and checks the next option: it must not lock the quiz
    page.keyboard.press("ArrowDown")
    assert quiz.locator(".quiz-feedback").is_hidden(), "an arrow key answered the quiz"
    assert options.evaluate_all("(os) => os.filter((o) => o.disabled).length") == 0
    # a wrong option with the arrows and Space, Tab to Submit, Enter
    chosen = _arrow_to(page, False, options.count())
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('#quiz-0 button[type=submit]')"), _focused(page)
    page.keyboard.press("Enter")
    feedback = quiz.locator(".quiz-feedback")
    feedback.wait_for(state="visible", timeout=5_000)
    assert "Not right:" in feedback.inner_text() and "The right answer:" in feedback.inner_text()
    assert quiz.locator(f"#{chosen}").evaluate("(e) => e.parentElement.className") == "wrong"
    # Try Again by keyboard: the quiz is cleared and the focus is back on the options
    _tab_to(page, "#quiz-0 .quiz-reset-button", 5)
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.matches('#quiz-0 input[name=answer]')")
    assert feedback.is_hidden()
    assert options.evaluate_all("(os) => os.filter((o) => o.checked || o.disabled).length") == 0
    # and now the right answer, still by keyboard
    _arrow_to(page, True, options.count())
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    feedback.wait_for(state="visible", timeout=5_000)
    assert "Right:" in feedback.inner_text() and "Not right" not in feedback.inner_text()
    assert not watch.errors


def test_quiz_answers_do_not_persist_across_reloads(open_page):
    page, _ = open_page("loss/")
    quiz = page.locator(".quiz").first
    quiz.locator("input[data-correct]").check()
    quiz.locator("button[type=submit]").click()
    quiz.locator(".quiz-feedback").wait_for(state="visible")
    page.reload(wait_until="load")
    quiz = page.locator(".quiz").first
    assert quiz.locator(".quiz-feedback").is_hidden()
    assert quiz.locator("input[name=answer]:checked").count() == 0
    assert quiz.locator("button[type=submit]").is_visible()


def test_formula_options_have_accessible_names(open_page):
    """Chromium's own accessibility tree names every quiz option, a formula by its text (e.g. ``φ(w ⋅ x + b)``)."""
    page, _ = open_page("neuron/")
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]

    def names(selector):
        found = []
        for node in cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]:
            ax = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False})["nodes"][0]
            found.append(ax.get("name", {}).get("value", ""))
        return found

    options = names(".quiz input[type=radio]")
    assert len(options) >= 12
    assert all(name.strip() for name in options), options
    assert any(o.endswith(": φ(w ⋅ x + b)") for o in options) and any(o.endswith(": φ(w ⋅ x) + b") for o in options)
    # the question names its group, formula included
    groups = [" ".join(g.split()) for g in names(".quiz fieldset")]
    assert any("weights w , bias b and activation φ output for an input x" in g for g in groups), groups


@pytest.mark.parametrize("path", ["neuron/", "learning-rate/", "exercises/04_loss/"])
def test_math_is_in_the_html_before_any_script_runs(open_page, path):
    """With JavaScript off (the first paint), formulas are already typeset: no raw TeX, nothing to shift later."""
    page, _ = open_page(path, java_script_enabled=False)
    assert page.locator("article .katex").count() > 5
    prose = page.evaluate(_PROSE_TEXT)
    assert not [raw for raw in ("$$", "\\[", "\\(", "\\frac", "\\mathbf") if raw in prose]


_CLS = """() => new Promise((resolve) => {
  let total = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 1500);
})"""


@pytest.mark.parametrize("path", [*CONCEPT_PAGES, "exercises/05_chain_rule/"])
def test_page_does_not_shift_while_loading(open_page, path):
    """Cumulative layout shift after load, on a phone screen (client-side typesetting made it up to 0.27)."""
    page, _ = open_page(path, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    assert page.evaluate(_CLS) < 0.02


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


@pytest.mark.parametrize("path", ["", *CONCEPT_PAGES, "exercises/04_loss/"])
def test_page_preloads_exactly_the_math_fonts_it_uses(open_page, path):
    """The KaTeX fonts a page loads are the ones it preloads (none missing: a shift; none unused: wasted bytes)."""
    page, _ = open_page(path)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.evaluate("document.fonts.ready.then(() => true)")
    loaded = page.evaluate(
        "[...new Set(performance.getEntriesByType('resource').map((r) => r.name)"
        ".filter((n) => n.endsWith('.woff2')).map((n) => n.split('/').pop()))].sort()"
    )
    preloaded = page.evaluate(
        "[...document.querySelectorAll('link[rel=preload][as=font]')].map((l) => l.href.split('/').pop()).sort()"
    )
    assert loaded == preloaded
    if path in CONCEPT_PAGES:
        assert "KaTeX_Main-Regular.woff2" in loaded


@pytest.mark.parametrize(("scheme", "palette"), [("dark", "slate"), ("light", "default")])
def test_theme_is_the_readers_before_the_theme_script_runs(browser, site_url, scheme, palette):
    """The page is styled in the system's colour scheme from the first paint (no light flash for a dark reader).

    Material's bundle is blocked: what is left is the page's own early settling of the theme.
    """
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        page.route("**/bundle.*.min.js", lambda route: route.abort())
        page.goto(site_url + "neuron/", wait_until="load")
        assert page.locator("body").get_attribute("data-md-color-scheme") == palette
        # "js-focus-visible" too: the bundle's focus-visible polyfill would add it (one more restyle of the page)
        assert page.evaluate("document.documentElement.className") == "js js-focus-visible"
        assert page.locator("div.md-search[role=dialog]").get_attribute("aria-label") == "Search"
    finally:
        context.close()


_SET_IN = """(family) => {
  // the width of the same italic text in KaTeX's math font and in the browser's fallback for it
  const probe = (font) => {
    const s = document.createElement("span");
    s.textContent = "xyzwbσ";
    s.style.cssText = `font: italic 40px ${font}; position: absolute; white-space: nowrap`;
    document.body.append(s);
    const width = s.getBoundingClientRect().width;
    s.remove();
    return width;
  };
  return [probe(family), probe("serif")];
}"""


@pytest.mark.parametrize("path", ["neuron/", "exercises/04_loss/"])
def test_math_is_set_in_katex_fonts_from_a_near_server(open_page, path):
    """KaTeX's fonts are ``optional``: preloaded, they arrive in time and are used (a late one never would be).

    A probe in the page's ``KaTeX_Math`` face is as wide as the fallback font only if that face is not in use.
    """
    page, _ = open_page(path, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.evaluate("document.fonts.ready.then(() => true)")
    katex, fallback = page.evaluate(_SET_IN, "KaTeX_Math, serif")
    assert abs(katex - fallback) > 1, "the math is set in the fallback font: KaTeX_Math was not used"
    absent, fallback = page.evaluate(_SET_IN, "NoSuchFont, serif")
    assert absent == fallback  # the probe's control: a font that is not there measures as the fallback
