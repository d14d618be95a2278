"""Fixtures of the site tests: one strict build per test session, a local HTTP server, headless Chromium, axe-core.

The build is expensive (seconds), so it runs once even under pytest-xdist:
the first worker to take the lock builds into a directory shared by the
session's workers, the others wait and reuse it.
"""

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from testkit import site as kit  # shared with the report's browser tests
from testkit.site import CHROMIUM, CHROMIUM_ARGS, PageWatch

from nnbasics._env import with_scripts_on_path

ROOT = Path(__file__).resolve().parents[2]


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
    """The site built once per session with ``mkdocs build --strict`` (``testkit.site``); its folder."""
    return kit.built_site(tmp_path_factory)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output for failures
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a browser that drops a connection it no longer needs is no error of the site; anything else is printed
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def site_url(built_site):
    """Base URL of the built site, served on 127.0.0.1 by a thread for the session."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = _Server(("127.0.0.1", 0), handler)
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


@pytest.fixture(scope="session")
def axe():
    """``testkit.site.axe_violations``: WCAG 2.1 A and AA violations on a page, one line per element."""
    return kit.axe_violations
