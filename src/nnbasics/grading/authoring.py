"""Authoring the exercises: keep the notebooks' checks cells and site links current, and release them.

Run from a checkout after editing ``solutions/`` or ``checks.py``::

    python -m nnbasics.grading.authoring

It copies ``checks.py`` into the first code cell (grade_id ``checks``) of every
``solutions/<id>/<id>.ipynb``, points every link to a page of the course site
at the site's address (``site_url`` of mkdocs.yml, via
``nnbasics.assignments``), and regenerates ``exercises/`` with the real
``nbgrader generate_assignment``, run in a temporary copy of the course so no
gradebook or log is left in the checkout. When the checkout is also a course
in use (it has a ``gradebook.db``), the cells stock ``nbgrader autograde``
restores and scores against are refreshed there too, so one command updates
every path.
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from .._env import with_scripts_on_path
from ..assignments import ASSIGNMENTS, PAGES, site_url
from .kernel_boot import CHECKS_HEADER

ROOT = Path(__file__).resolve().parents[3]  # the checkout (src/nnbasics/grading/authoring.py)


def checks_cell_source():
    """The source every checks cell must have: a one-line header, then checks.py verbatim."""
    return CHECKS_HEADER + (Path(__file__).parent / "checks.py").read_text().rstrip("\n")


# the site's pages a notebook links to, by their URL path: the concept pages and the Exercises page
SITE_PAGES = (*(page.removesuffix(".md") for page in PAGES.values()), "exercises")
# a Markdown link target on the site, under any address (or the old repo-relative ../../docs/<page>.md)
SITE_LINK = re.compile(
    r"\]\((?P<base>https?://[^\s()]+?/|\.\./\.\./docs/)(?P<page>[a-z-]+)(?:/|\.md)(?P<anchor>#[\w-]+)?\)"
)


def site_links(source):
    """``[(page, anchor)]`` of the links to site pages in a Markdown source, anchors with their ``#``."""
    return [(m["page"], m["anchor"] or "") for m in SITE_LINK.finditer(source) if m["page"] in SITE_PAGES]


def sync_links(source):
    """``source`` with every link to a site page pointing at ``site_url()`` (its anchor kept)."""

    def point(m):
        if m["page"] not in SITE_PAGES:
            return m[0]
        return f"]({site_url()}{m['page']}/{m['anchor'] or ''})"

    return SITE_LINK.sub(point, source)


def notebook_path(root, folder, assignment):
    """``root/folder/<id>/<id>.ipynb``."""
    return Path(root) / folder / assignment / f"{assignment}.ipynb"


def sync_notebook(nb):
    """Make ``nb``'s checks cell equal to checks.py and its site links point at ``site_url()``; True if changed."""
    before = [c.source for c in nb.cells]
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "checks":
            cell.source = checks_cell_source()
        elif cell.cell_type == "markdown":
            cell.source = sync_links(cell.source)
    return [c.source for c in nb.cells] != before


def sync_checks(root=ROOT):
    """Sync the checks cell and the site links of each solutions notebook; return the changed paths."""
    changed = []
    for assignment in ASSIGNMENTS:
        path = notebook_path(root, "solutions", assignment)
        nb = nbformat.read(path, as_version=4)
        if sync_notebook(nb):
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def generate(root, workdir):
    """Run ``nbgrader generate_assignment`` for every assignment in a copy of the course under ``workdir``.

    Returns the folder holding the generated ``<id>/<id>.ipynb`` notebooks.
    """
    course = Path(workdir) / "course"
    shutil.copytree(Path(root) / "solutions", course / "solutions")
    shutil.copy(Path(root) / "nbgrader_config.py", course)
    env = with_scripts_on_path()  # nbgrader shells out to `alembic` when it creates a gradebook
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force", "--log-level=WARN"],
        cwd=course,
        env=env,
        check=True,
        capture_output=True,
    )
    return course / "exercises"


def release(root=ROOT):
    """Regenerate ``root/exercises`` from ``root/solutions``."""
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(root, tmp)
        for assignment in ASSIGNMENTS:
            target = notebook_path(root, "exercises", assignment)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(notebook_path(generated.parent, "exercises", assignment), target)


def refresh_gradebook(root=ROOT):
    """Record ``root/solutions`` in ``root/gradebook.db`` (if there is one), as generate_assignment does.

    Only assignments the gradebook holds and whose cells differ are touched.
    Returns the assignments whose cells nbgrader refused to change, with the
    reason (it will not add or remove cells of a notebook with submissions).
    """
    from nbgrader.api import Gradebook

    from .material import gradebook_differences, refresh

    db = Path(root) / "gradebook.db"
    if not db.exists():
        return {}
    with Gradebook(f"sqlite:///{db}") as gb:
        stale = [a for a in ASSIGNMENTS if gradebook_differences(gb, a) not in ([], ["(missing)"])]
    refused = {}
    for assignment in stale:
        try:
            refresh(f"sqlite:///{db}", assignment, nbformat.read(notebook_path(root, "solutions", assignment), 4))
        except RuntimeError as e:
            refused[assignment] = str(e)
    return refused


def main():
    """Sync the checks cells, release the exercises, refresh the course's gradebook."""
    for path in sync_checks():
        print(f"updated the checks cell or the site links of {path}")
    release()
    print(f"regenerated {ROOT / 'exercises'}")
    if (ROOT / "gradebook.db").exists():
        refused = refresh_gradebook()
        print(f"refreshed the cells of {ROOT / 'gradebook.db'} (what nbgrader autograde restores and scores)")
        for assignment, why in refused.items():
            print(f"could not refresh {assignment} in gradebook.db: {why}", file=sys.stderr)


if __name__ == "__main__":
    main()
