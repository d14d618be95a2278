"""Every page of the built site passes axe-core (WCAG 2.1 AA) in the light and the dark theme, quizzes answered too."""

import pytest

from nnbasics.assignments import ASSIGNMENTS, page_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONCEPT_PAGES = [page_path(a) for a in ASSIGNMENTS]
PAGES = ["", *CONCEPT_PAGES, "exercises/", *[f"exercises/{a}/" for a in ASSIGNMENTS], "instructors/", "api/"]
SCHEMES = {"light": "default", "dark": "slate"}  # prefers-color-scheme -> Material's palette


def _open(open_page, path, scheme):
    page, watch = open_page(path, color_scheme=scheme)
    assert page.locator("body").get_attribute("data-md-color-scheme") == SCHEMES[scheme]
    return page, watch


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_axe_violations(open_page, axe, path, scheme):
    page, _ = _open(open_page, path, scheme)
    violations = axe(page)
    assert not violations, f"{path or 'home'} ({scheme}):\n" + "\n".join(violations)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", CONCEPT_PAGES)
def test_answered_quizzes_have_no_axe_violations(open_page, axe, path, scheme):
    """Every quiz answered (alternately wrong and right), so each kind of feedback is on the page."""
    page, watch = _open(open_page, path, scheme)
    quizzes = page.locator(".quiz")
    assert quizzes.count() >= 4
    for n in range(quizzes.count()):
        quiz = quizzes.nth(n)
        pick = "input[data-correct]" if n % 2 else "input[name=answer]:not([data-correct])"
        quiz.locator(pick).first.check()
        quiz.locator("button[type=submit]").click()
        quiz.locator(".quiz-feedback .nn-feedback").first.wait_for(timeout=5_000)
    violations = axe(page)
    assert not violations, f"{path} ({scheme}), quizzes answered:\n" + "\n".join(violations)
    assert not watch.errors


def test_dark_theme_by_the_toggle_has_no_axe_violations(open_page, axe):
    """The palette toggle (not only the system preference) gives an accessible dark page."""
    page, _ = _open(open_page, "loss/", "light")
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    page.wait_for_timeout(300)  # Material's colour transition
    violations = axe(page)
    assert not violations, "loss/ (dark by the toggle):\n" + "\n".join(violations)
