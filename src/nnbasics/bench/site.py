"""``nnbasics bench site``: how long the course site takes to build, cold and after editing one page.

Works on a temporary copy of ``mkdocs.yml``, ``docs/`` and ``exercises/`` (the
real pages are never touched) and prints four figures:

- cold ``mkdocs build --strict``: a fresh process, no mkdocs-jupyter cache
  (target <= 20 s);
- warm ``mkdocs build --strict``: the same again, with that cache;
- rebuild after editing one page under ``mkdocs serve --dirty`` (what
  ``make serve`` runs): the time from saving the page to the served page
  showing the edit, for the lightest and the heaviest concept page
  (target <= 3 s);
- ``mkdocs build --dirty`` after editing one page: a fresh process that
  rebuilds only the edited page (not strict: mkdocs warns that a dirty
  build's navigation may be stale).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .._env import with_scripts_on_path

ROOT = Path(__file__).resolve().parents[3]  # the checkout (src/nnbasics/bench/site.py)
EDITED_PAGE = "neuron.md"  # the one edited for the dirty build
SERVE_PAGES = ("neuron.md", "initialization.md")  # the lightest and the heaviest concept page
COLD_TARGET, REBUILD_TARGET = 20.0, 3.0


def _env():
    return with_scripts_on_path(NO_MKDOCS_2_WARNING="1")


def copy_site_sources(root, dest):
    """Copy what a site build reads (mkdocs.yml, docs/, exercises/) from ``root`` into ``dest``."""
    shutil.copy2(root / "mkdocs.yml", dest / "mkdocs.yml")
    for folder in ("docs", "exercises"):
        shutil.copytree(root / folder, dest / folder)


def edit_page(work, marker, name=EDITED_PAGE):
    """Append a paragraph holding ``marker`` to the copied page ``name`` (never to the real docs)."""
    if Path(work).resolve() == ROOT:
        raise ValueError("the benchmark edits a copy of the docs, never the checkout's")
    page = work / "docs" / name
    with page.open("a", encoding="utf-8") as f:
        f.write(f"\n\nBenchmark edit {marker}.\n")


def timed_build(work, site, dirty=False):
    """Wall-clock seconds of ``mkdocs build`` in a new process; raises if the build fails.

    Strict, except a dirty build: mkdocs itself warns that a dirty build's
    navigation may be stale, which ``--strict`` would turn into a failure.
    """
    flags = ["--dirty"] if dirty else ["--strict"]
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *flags, "-d", str(site)],
        cwd=work,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError("mkdocs build failed:\n" + out.stderr[-3000:])
    return elapsed


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode("utf-8", "replace")
    except OSError:
        return None


def serve_rebuild(work, pages=SERVE_PAGES, limit=120.0):
    """Seconds from saving an edited page to ``mkdocs serve --dirty`` serving it, per page.

    Starts the server on a free port of 127.0.0.1, waits for its first build,
    then edits each page in turn and polls it until the edit shows; stops the
    server at the end.

    Returns
    -------
    dict
        Page file name to seconds.
    """
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--dirty", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=work,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    times = {}
    try:
        deadline = time.monotonic() + limit
        while _get(base) is None:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mkdocs serve did not start")
            time.sleep(0.1)
        for name in pages:
            url = base + name.removesuffix(".md") + "/"
            marker = f"nnbasics-bench-{time.time_ns()}"
            time.sleep(1.0)  # let the watcher settle: an edit during a rebuild could be folded into it
            start = time.perf_counter()
            edit_page(work, marker, name)
            while marker not in (_get(url) or ""):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mkdocs serve did not rebuild {name}")
                time.sleep(0.05)
            times[name] = time.perf_counter() - start
        return times
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def measure(root=ROOT):
    """Run the four measurements on a copy of ``root``; return ``{name: seconds}``."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="nnbasics-bench-site-") as tmp:
        work = Path(tmp) / "src"
        work.mkdir()
        copy_site_sources(root, work)
        site = Path(tmp) / "site"
        results["cold"] = timed_build(work, site)  # cwd is the copy: no mkdocs-jupyter cache yet
        results["warm"] = timed_build(work, site)
        results["serve"] = serve_rebuild(work)
        edit_page(work, f"dirty-{time.time_ns()}")
        results["dirty"] = timed_build(work, site, dirty=True)
    return results


def main():
    """Print the site's build figures; returns 0, or 1 when a build fails."""
    if not (ROOT / "mkdocs.yml").is_file():
        print(f"  not available: no mkdocs.yml in {ROOT} (run from a checkout)")
        return 1
    try:
        r = measure()
    except (RuntimeError, OSError) as e:
        print(f"  site build failed: {e}")
        return 1
    rows = [("cold mkdocs build --strict", r["cold"], f"target <= {COLD_TARGET:g} s, {os.cpu_count()} cores")]
    rows.append(("warm mkdocs build --strict", r["warm"], "mkdocs-jupyter cache warm"))
    for name, seconds in r["serve"].items():
        rows.append((f"rebuild after editing {name} (serve)", seconds, f"target <= {REBUILD_TARGET:g} s"))
    rows.append((f"mkdocs build --dirty after editing {EDITED_PAGE}", r["dirty"], "a new process"))
    for label, seconds, note in rows:
        print(f"  {label + ':':<52} {seconds:6.2f} s  ({note})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
