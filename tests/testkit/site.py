"""The built site and the browser, for tests outside tests/site: one strict build per session, Chromium, axe-core.

``shared_once(tmp_path_factory, name, make)`` runs ``make(path)`` once per
test session, even under pytest-xdist: the first worker to take the lock
does it in a folder common to the session's workers, the others wait and
reuse it. The site build uses the same folder and marker names as
tests/site/conftest.py, so one session builds the site once for both.
"""

import fcntl
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from urllib.parse import urlsplit

from nnbasics._env import with_scripts_on_path
from nnbasics.bench.site import CHROMIUM, CHROMIUM_ARGS  # noqa: F401 (the benchmark's browser and flags, for the tests)

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # npm (package.json); `make test` runs `npm ci`
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def shared_dir(tmp_path_factory):
    """A folder common to all workers of this test session."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_once(tmp_path_factory, name, make):
    """``make(path)`` run once per session into ``<shared>/<name>``; returns ``(path, state)``.

    ``make`` returns a JSON-able state (kept in ``<name>.json`` for the
    other workers); an exception in it is kept as ``{"error": traceback}``.
    """
    shared = shared_dir(tmp_path_factory)
    path, marker, lock = shared / name, shared / f"{name}.json", shared / f"{name}.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not marker.exists():
            try:
                state = make(path)
            except Exception:
                state = {"error": traceback.format_exc()}
            marker.write_text(json.dumps(state))
        return path, json.loads(marker.read_text())


def run_mkdocs_build(site_dir):
    """``mkdocs build --strict`` of the checkout into ``site_dir``; the state tests/site/conftest.py keeps."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site_dir), "--strict"]
    env = with_scripts_on_path(NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return {"returncode": result.returncode, "output": result.stderr[-20000:]}


def built_site(tmp_path_factory):
    """The site built once per session (shared with tests/site); its folder."""
    site, state = shared_once(tmp_path_factory, "nnbasics-site", run_mkdocs_build)
    assert state.get("returncode") == 0, f"mkdocs build --strict failed:\n{state.get('output', state)}"
    return site


class PageWatch:
    """Console errors, page errors and requests to hosts other than 127.0.0.1 (which are aborted).

    ``allow``: URLs let through as well (a page opened from a ``file:`` URL).
    """

    def __init__(self, page, allow=()):
        self.errors, self.external, self.allow = [], [], set(allow)
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname == "127.0.0.1" or url in self.allow:
            route.continue_()
        else:
            self.external.append(url)
            route.abort()


_AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + " | " + (n.failureSummary || "").replace(/\\s+/g, " ")),
  }));
}"""


def axe_violations(page):
    """axe-core's WCAG 2.1 A and AA violations on ``page``, one line per element (empty: none).

    axe is injected from ``node_modules`` as an inline script, so no request leaves the machine.
    """
    if not AXE.is_file():
        raise FileNotFoundError(f"{AXE} is missing: run `npm ci` in the checkout (`make test` does)")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return [f"{v['id']} ({v['help']}): {node}" for v in page.evaluate(_AXE_RUN, AXE_TAGS) for node in v["nodes"]]
