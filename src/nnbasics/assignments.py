"""The five assignments: their ids, the site page that teaches each, and links to it.

The one place that names them: the site's hooks, the grader, the notebooks'
tests and the test suite all read these. An assignment id is also the name of
its folder and notebook (``solutions/<id>/<id>.ipynb``,
``exercises/<id>/<id>.ipynb``); see CONTRIBUTING.md.
"""

import functools
import os
import re
from pathlib import Path

ASSIGNMENTS = ("01_neuron", "02_learning_rate", "03_initialization", "04_loss", "05_chain_rule")

# assignment id -> the concept page (in docs/) that teaches it
PAGES = {
    "01_neuron": "neuron.md",
    "02_learning_rate": "learning-rate.md",
    "03_initialization": "initialization.md",
    "04_loss": "loss.md",
    "05_chain_rule": "chain-rule.md",
}


@functools.cache
def site_url():
    """The site's address, ending in ``/``: ``site_url`` of mkdocs.yml, or ``$NNBASICS_SITE_URL`` when set.

    mkdocs.yml is read from the checkout, or from the copy the wheel ships in
    ``nnbasics/course/``. ``NNBASICS_SITE_URL`` points the links elsewhere,
    e.g. at ``http://127.0.0.1:8000/`` while ``make serve`` runs.
    """
    url = os.environ.get("NNBASICS_SITE_URL")
    if not url:
        here = Path(__file__).resolve().parent
        for config in (here / "course" / "mkdocs.yml", here.parents[1] / "mkdocs.yml"):
            if config.is_file():
                found = re.search(r"^site_url:\s*[\"']?([^\"'\s#]+)", config.read_text(encoding="utf-8"), re.M)
                if found:
                    url = found[1]
                    break
    if not url:
        raise RuntimeError("the site's address is missing: mkdocs.yml has no site_url (reinstall nnbasics)")
    return url.rstrip("/") + "/"


def page_path(assignment):
    """The site-relative URL of the page that teaches ``assignment``, e.g. ``"neuron/"``."""
    return PAGES[assignment].removesuffix(".md") + "/"


def site_link(assignment):
    """Full URL of the site page that teaches ``assignment``."""
    return site_url() + page_path(assignment)
