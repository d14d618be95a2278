"""Vendor the site's browser assets (KaTeX's stylesheet and fonts) from npm into ``docs/assets/vendor/``.

The site must never call out, so what its pages load is served from the
built site itself. The math is rendered at build time (by the KaTeX of
``package.json``, see ``nnbasics.site.math_html``), so the browser needs only
KaTeX's CSS and fonts, of the same version: it is read from ``package.json``.
``make vendor`` runs this module: it fetches the pinned package versions with
``npm pack`` into a temporary directory, copies only the files the site uses
(no TTF/WOFF fonts: every browser we target reads WOFF2), and writes
``docs/assets/vendor/README.md`` with the versions and licences. The result is
committed.

Usage::

    python tools/vendor_assets.py [DOCS_DIR]
"""

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Pinned in package.json (the build renders with that KaTeX): bump there, run `npm install` and `make vendor`.
PACKAGES = {
    "katex": {
        "version": json.loads((ROOT / "package.json").read_text())["devDependencies"]["katex"],
        "files": ["dist/katex.min.css", "dist/fonts/*.woff2"],
        "strip": "dist/",
    },
}

USAGE_ERROR = 2
FETCH_ERROR = 1


def fetch(name, version, into):
    """Download ``name@version`` with ``npm pack`` and unpack it.

    Parameters
    ----------
    name, version : str
    into : pathlib.Path
        An empty directory.

    Returns
    -------
    (pathlib.Path, dict)
        The unpacked package directory and its ``package.json``.
    """
    out = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--json", "--silent"],
        cwd=into,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"npm pack {name}@{version} failed: {out.stderr.strip().splitlines()[-1:]}")
    tgz = into / json.loads(out.stdout)[0]["filename"]
    dest = into / name
    with tarfile.open(tgz) as tar:
        tar.extractall(dest, filter="data")
    root = dest / "package"
    return root, json.loads((root / "package.json").read_text())


def copy_package(root, spec, target):
    """Copy the files of ``spec`` from the unpacked package ``root`` into ``target``.

    Returns
    -------
    list of str
        The copied paths, relative to ``target``.
    """
    copied = []
    for pattern in spec["files"]:
        matches = sorted(root.glob(pattern))
        if not matches:
            raise RuntimeError(f"{root.name}: no file matches {pattern!r}")
        for src in matches:
            rel = src.relative_to(root).as_posix()
            rel = rel.removeprefix(spec["strip"])
            dst = target / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied.append(rel)
    shutil.copyfile(root / "LICENSE", target / "LICENSE")
    return copied


def readme(records):
    """The text of ``docs/assets/vendor/README.md`` for the vendored ``records``."""
    lines = [
        "# Vendored browser assets",
        "",
        "Served by the site itself so that it never calls out. Do not edit by hand:",
        "run `make vendor` (`python tools/vendor_assets.py`), which fetches the pinned",
        "versions from npm and rewrites this folder.",
        "",
        "| package | version | licence | files |",
        "|---|---|---|---|",
    ]
    for name, meta, files in records:
        shown = ", ".join(f"`{f}`" for f in files if not f.startswith("fonts/"))
        fonts = sum(f.startswith("fonts/") for f in files)
        if fonts:
            shown += f", {fonts} WOFF2 fonts in `fonts/`"
        lines.append(f"| {name} | {meta['version']} | {meta.get('license', '?')} (`{name}/LICENSE`) | {shown} |")
    return "\n".join(lines) + "\n"


def vendor(docs_dir):
    """Refresh ``docs_dir/assets/vendor`` from npm; returns the README text written."""
    vendor_dir = Path(docs_dir) / "assets" / "vendor"
    records = []
    with tempfile.TemporaryDirectory(prefix="nnbasics-vendor-") as tmp:
        staged = Path(tmp) / "staged"
        for name, spec in PACKAGES.items():
            work = Path(tmp) / f"pack-{name}"
            work.mkdir()
            root, meta = fetch(name, spec["version"], work)
            records.append((name, meta, copy_package(root, spec, staged / name)))
        text = readme(records)
        (staged / "README.md").write_text(text)
        if vendor_dir.exists():  # replace only once everything was fetched
            shutil.rmtree(vendor_dir)
        shutil.copytree(staged, vendor_dir)
    return text


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1:
        print("usage: python tools/vendor_assets.py [DOCS_DIR]", file=sys.stderr)
        return USAGE_ERROR
    docs = Path(argv[0] if argv else "docs")
    if not docs.is_dir():
        print(f"vendor_assets: {docs} is not a directory (run from the repository root)", file=sys.stderr)
        return USAGE_ERROR
    if shutil.which("npm") is None:
        print("vendor_assets: npm is not installed (apt-get install npm)", file=sys.stderr)
        return FETCH_ERROR
    try:
        print(vendor(docs), end="")
    except (RuntimeError, OSError, ValueError) as e:
        print(f"vendor_assets: {e}", file=sys.stderr)
        return FETCH_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
