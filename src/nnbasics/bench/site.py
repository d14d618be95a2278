"""``nnbasics bench site``: how long the course site takes to build, and its Lighthouse scores.

Works on a temporary copy of what a site build reads (``mkdocs.yml``,
``docs/``, ``exercises/``, and what the served wheel is made of; the real
pages are never touched) and prints four build figures:

- cold ``mkdocs build --strict``: a fresh process, no mkdocs-jupyter cache
  (target <= 10 s);
- warm ``mkdocs build --strict``: the same again, with that cache;
- rebuild after editing one page under ``mkdocs serve --dirty`` (what
  ``make serve`` runs): the time from saving the page to the served page
  showing the edit, for the lightest and the heaviest concept page
  (target <= 2 s);
- ``mkdocs build --dirty`` after editing one page: a fresh process that
  rebuilds only the edited page (not strict: mkdocs warns that a dirty
  build's navigation may be stale).

Then Lighthouse 12 (npm, ``tools/lighthouse``, installed by ``make bench``)
scores every page of the strict build, as a phone and as a desktop:
performance, accessibility, best practices. The site is served on 127.0.0.1
the way a static host serves it (``StaticHandler``: gzip, cache headers),
since Lighthouse charges a bare ``python -m http.server`` for both.
"""

import functools
import gzip
import http.server
import json
import mimetypes
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from .._env import with_scripts_on_path

ROOT = Path(__file__).resolve().parents[3]  # the checkout (src/nnbasics/bench/site.py)
EDITED_PAGE = "neuron.md"  # the one edited for the dirty build
SERVE_PAGES = ("neuron.md", "initialization.md")  # the lightest and the heaviest concept page
COLD_TARGET, REBUILD_TARGET = 10.0, 2.0
LIGHTHOUSE = ROOT / "tools" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"  # Debian's; the browser tests drive the same binary with the same flags
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# pages scored by Lighthouse (every page of the site), and its targets (issue 15)
LIGHTHOUSE_PAGES = (
    "",
    "neuron/",
    "learning-rate/",
    "initialization/",
    "loss/",
    "chain-rule/",
    "exercises/",
    "exercises/01_neuron/",
    "exercises/02_learning_rate/",
    "exercises/03_initialization/",
    "exercises/04_loss/",
    "exercises/05_chain_rule/",
    "instructors/",
    "api/",
)
LIGHTHOUSE_TARGETS = {"mobile": 85, "desktop": 95}  # performance; accessibility and best practices: 100
LIGHTHOUSE_RUNS = int(os.environ.get("NNBASICS_LIGHTHOUSE_RUNS", "3"))  # per page and form factor; the median is shown


def _env():
    return with_scripts_on_path(NO_MKDOCS_2_WARNING="1")


def copy_site_sources(root, dest):
    """Copy what a site build reads from ``root`` into ``dest``: pages, exercises, and the wheel's sources."""
    for name in ("mkdocs.yml", "pyproject.toml", "README.md"):
        shutil.copy2(root / name, dest / name)
    for folder in ("docs", "exercises", "solutions", "src"):
        shutil.copytree(root / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))


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


_COMPRESSED = frozenset({".html", ".css", ".js", ".mjs", ".json", ".svg", ".xml", ".txt", ".ipynb", ".map"})
_HASHED = re.compile(r"\.[0-9a-f]{8}\.min\.(?:js|css)$|\.woff2$")  # Material's bundles, fonts


@functools.lru_cache(maxsize=512)
def _gzip(path, mtime_ns):
    """The gzip of the file at ``path`` (as of ``mtime_ns``), compressed once per run."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """Serve a built site as a static host does: gzip for text, long cache lifetimes for fingerprinted assets.

    Material's bundles carry a content hash in their names and the fonts never
    change, so they are cached for a year; other assets for an hour, pages
    for ten minutes (GitHub Pages' lifetime). Missing paths get the site's
    ``404.html``.
    """

    def log_message(self, *args):  # quiet: the benchmark prints its own figures
        pass

    def _cache_control(self, rel):
        if _HASHED.search(rel):
            return "public, max-age=31536000, immutable"
        if rel.startswith("assets/"):
            return "public, max-age=3600"
        return "public, max-age=600"

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?")[0].endswith("/"):
                self.send_response(301)
                self.send_header("Location", self.path.split("?")[0] + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            path = path / "index.html"
        status = 200
        if not path.is_file():
            status, path = 404, Path(self.directory) / "404.html"
        rel = path.relative_to(self.directory).as_posix()
        gzipped = path.suffix in _COMPRESSED and "gzip" in self.headers.get("Accept-Encoding", "")
        body = _gzip(str(path), path.stat().st_mtime_ns) if gzipped else path.read_bytes()
        self.send_response(status)
        self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", self._cache_control(rel))
        self.send_header("Vary", "Accept-Encoding")
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        return _Body(body)


class _Body:
    """What ``send_head`` hands to ``copyfile``: the bytes, read once."""

    def __init__(self, data):
        self.data = data

    def read(self, *args):
        data, self.data = self.data, b""
        return data

    def close(self):
        pass


def serve_static(site):
    """Serve ``site`` with ``StaticHandler`` on a free port of 127.0.0.1; returns ``(server, base_url)``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(StaticHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def lighthouse(site, pages=LIGHTHOUSE_PAGES, runs=LIGHTHOUSE_RUNS):
    """Lighthouse scores of each page of the built ``site``, mobile and desktop: of ``runs`` runs, the median.

    Returns
    -------
    list of dict
        One per run: ``page``, ``form_factor``, ``performance``, ``accessibility``,
        ``best-practices`` (0-100) and ``failing`` (the weighted audits below 0.9).

    Raises
    ------
    RuntimeError
        When Lighthouse or Chromium is missing, or Lighthouse fails.
    """
    if not (LIGHTHOUSE / "node_modules" / "lighthouse").is_dir():
        raise RuntimeError("Lighthouse is not installed: `make bench` installs it (npm ci in tools/lighthouse)")
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    server, base = serve_static(site)
    try:
        out = subprocess.run(
            [
                "node",
                str(LIGHTHOUSE / "run.mjs"),
                CHROMIUM,
                " ".join(CHROMIUM_ARGS),
                str(runs),
                *(base + p for p in pages),
            ],
            cwd=LIGHTHOUSE,
            capture_output=True,
            text=True,
            timeout=60 * 2 * runs * len(pages),
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    if out.returncode != 0:
        raise RuntimeError("Lighthouse failed:\n" + out.stderr[-3000:])
    runs = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    for run in runs:
        run["page"] = run.pop("url").removeprefix(base) or "(home)"
    return runs


def measure(root=ROOT, scores=True):
    """Run the build measurements (and Lighthouse, if ``scores``) on a copy of ``root``.

    Returns
    -------
    dict
        ``cold``, ``warm``, ``dirty`` (seconds), ``serve`` (page -> seconds),
        ``lighthouse`` (list of runs, see ``lighthouse``) or ``lighthouse_error`` (a sentence).
    """
    results = {}
    with tempfile.TemporaryDirectory(prefix="nnbasics-bench-site-") as tmp:
        work = Path(tmp) / "src"
        work.mkdir()
        copy_site_sources(root, work)
        site = Path(tmp) / "site"
        results["cold"] = timed_build(work, site)  # cwd is the copy: no mkdocs-jupyter cache yet
        results["warm"] = timed_build(work, site)
        if scores:  # the strict build, before any page is edited
            try:
                results["lighthouse"] = lighthouse(site)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                results["lighthouse_error"] = str(e)
        results["serve"] = serve_rebuild(work)
        edit_page(work, f"dirty-{time.time_ns()}")
        results["dirty"] = timed_build(work, site, dirty=True)
    return results


def _lighthouse_rows(runs):
    """The printed Lighthouse table: one line per page, mobile and desktop side by side; and whether all meet the targets."""
    by_page = {}
    for run in runs:
        by_page.setdefault(run["page"], {})[run["form_factor"]] = run
    lines, ok = [], True
    header = "perf a11y  bp"
    lines.append(f"  {'Lighthouse 12 (page)':<30} {'mobile: ' + header:>22}   {'desktop: ' + header:>22}")
    for page, forms in by_page.items():
        cells, spread = [], []
        for form in ("mobile", "desktop"):
            run = forms.get(form, {})
            perf, a11y, bp = (run.get(k) for k in ("performance", "accessibility", "best-practices"))
            good = perf is not None and perf >= LIGHTHOUSE_TARGETS[form] and a11y == 100 and bp == 100
            ok &= good
            cells.append(f"{perf!s:>4} {a11y!s:>4} {bp!s:>3}{'' if good else ' !'}")
            spread.append(f"{form} {run.get('performance_all', [])}")
        lines.append(f"  {page:<30} {cells[0]:>22}   {cells[1]:>22}   ({', '.join(spread)})")
        for form in ("mobile", "desktop"):
            failing = forms.get(form, {}).get("failing")
            if failing:
                lines.append(f"      {form} audits below 0.9: {', '.join(failing)}")
    return lines, ok


def main():
    """Print the site's build figures and Lighthouse scores; returns 0, or 1 when a build or Lighthouse fails."""
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
    if "lighthouse_error" in r:
        print(f"  Lighthouse not run: {r['lighthouse_error']}")
        return 1
    print(
        "  Lighthouse 12: the strict build served on 127.0.0.1 as a static host serves it (gzip; cache headers:"
        " hashed bundles and fonts 1 year, other assets 1 h, pages 10 min);"
        f" each figure the median of {LIGHTHOUSE_RUNS} runs (all runs' performance in brackets);"
        f" targets: performance >= {LIGHTHOUSE_TARGETS['mobile']} mobile (simulated slow 4G, 4x CPU),"
        f" >= {LIGHTHOUSE_TARGETS['desktop']} desktop, accessibility and best practices 100 (! marks a miss)"
    )
    lines, _ = _lighthouse_rows(r["lighthouse"])
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
