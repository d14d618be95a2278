"""Fixtures of the site tests: one strict build per test session, a local HTTP server, headless Chromium, axe-core.

The build is expensive (seconds), so it runs once even under pytest-xdist:
the first worker to take the lock builds into a directory shared by the
session's workers, the others wait and reuse it.
"""

import fcntl
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from nnbasics._env import with_scripts_on_path
from nnbasics.bench.site import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # npm, package-lock.json; `make test` runs `npm ci`


def mkdocs_env(extra_pythonpath=None):
    """The environment of a mkdocs subprocess: the venv's bin first on PATH, quiet end-of-life notice."""
    env = with_scripts_on_path(NO_MKDOCS_2_WARNING="1")
    if extra_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_pythonpath), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_mkdocs_build(site_dir, config=ROOT / "mkdocs.yml", strict=True, extra_pythonpath=None):
    """Run ``mkdocs build`` in a subprocess; return the CompletedProcess (output captured)."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "-f", str(config), "-d", str(site_dir)]
    if strict:
        cmd.append("--strict")
    return subprocess.run(
        cmd, cwd=ROOT, env=mkdocs_env(extra_pythonpath), capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="session")
def mkdocs_build():
    """``run_mkdocs_build`` as a fixture (test modules cannot import conftest in importlib mode)."""
    return run_mkdocs_build


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The site built once with ``mkdocs build --strict``; the path of the built directory."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # common to this session's workers
    site, marker, lock = shared / "nnbasics-site", shared / "nnbasics-site.json", shared / "nnbasics-site.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not marker.exists():
            result = run_mkdocs_build(site)
            marker.write_text(json.dumps({"returncode": result.returncode, "output": result.stderr[-20000:]}))
        state = json.loads(marker.read_text())
    assert state["returncode"] == 0, f"mkdocs build --strict failed:\n{state['output']}"
    return site


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output for failures
        pass


@pytest.fixture(scope="session")
def site_url(built_site):
    """Base URL of the built site, served on 127.0.0.1 by a thread for the session."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright import sync_api  # a dev dependency: missing, the tests error rather than skip

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield browser
        browser.close()


class PageWatch:
    """Console errors, page errors and requests to hosts other than 127.0.0.1 (which are aborted)."""

    def __init__(self, page):
        self.errors, self.external = [], []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.external.append(url)
            route.abort()


@pytest.fixture
def open_page(browser, site_url):
    """``open_page(path, **context_options) -> (page, watch)``: a fresh context per call, closed afterwards."""
    contexts = []

    def _open(path, **options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(page)
        page.goto(site_url + path, wait_until="load")
        return page, watch

    yield _open
    for context in contexts:
        context.close()


# WCAG 2.1 A and AA, what the site promises; "best-practice" rules are not in it.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + " | " + (n.failureSummary || "").replace(/\\s+/g, " ")),
  }));
}"""


def run_axe(page):
    """axe-core's WCAG 2.1 AA violations on ``page`` as it is now, one line per element (empty: none).

    axe is injected from ``node_modules`` as an inline script: no request leaves 127.0.0.1.
    """
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` in the checkout (`make test` does)")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return [f"{v['id']} ({v['help']}): {node}" for v in page.evaluate(_AXE_RUN, AXE_TAGS) for node in v["nodes"]]


@pytest.fixture(scope="session")
def axe():
    """``run_axe`` as a fixture (test modules cannot import conftest in importlib mode)."""
    return run_axe
