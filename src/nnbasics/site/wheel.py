"""The nnbasics wheel, built with the site and served as ``downloads/nnbasics-<version>-py3-none-any.whl``.

A learner who has only the site installs the grader from it (the Exercises
page says how); the wheel carries the graded notebooks and the site's address
(``[tool.hatch.build.targets.wheel.force-include]`` in ``pyproject.toml``).

It is built in-process by hatchling (the project's build backend: no network,
no build isolation, ~0.2 s), once per build process: under ``mkdocs serve`` a
rebuild reuses it until a file it is made from changes (``fingerprint``).
"""

import tempfile
from pathlib import Path

SOURCES = ("pyproject.toml", "README.md", "mkdocs.yml", "src/nnbasics", "solutions")  # what the wheel is made from

_built = {}  # root -> (fingerprint, file name, bytes)


class WheelError(Exception):
    """The wheel cannot be built: one sentence for the build's error."""


def fingerprint(root):
    """Size and modification time of every file the wheel is made from, as one hashable value."""
    entries = []
    for name in SOURCES:
        path = Path(root) / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for f in files:
            if "__pycache__" in f.parts:
                continue
            stat = f.stat()
            entries.append((f.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


def build(root):
    """Build (or reuse) the wheel of the project at ``root``.

    Returns
    -------
    (str, bytes)
        The wheel's file name, e.g. ``"nnbasics-0.1.0-py3-none-any.whl"``, and its content.

    Raises
    ------
    WheelError
        When ``root`` has no ``pyproject.toml``, or hatchling is missing or fails.
    """
    root = Path(root).resolve()
    if not (root / "pyproject.toml").is_file():
        raise WheelError(f"no pyproject.toml in {root}: the site is built from a checkout of nnbasics")
    key = fingerprint(root)
    if root in _built and _built[root][0] == key:
        return _built[root][1:]
    try:
        from hatchling.builders.wheel import WheelBuilder
    except ImportError:
        raise WheelError("hatchling is not installed (pip install -e '.[docs]' installs it)") from None
    with tempfile.TemporaryDirectory(prefix="nnbasics-wheel-") as out:
        try:
            (path,) = WheelBuilder(str(root)).build(directory=out, versions=["standard"])
        except Exception as e:  # hatchling raises many kinds; the build reports one sentence
            raise WheelError(f"building the nnbasics wheel failed: {e}") from None
        path = Path(path)
        _built[root] = (key, path.name, path.read_bytes())
    return _built[root][1:]
