"""``nnbasics bench``: print every benchmark figure the issues ask for, measured in one run.

Each part has its own module with a ``main()`` that prints its figures:
``core`` (MLP step vs PyTorch), ``site`` (mkdocs build times),
``grader`` (grade vs plain nbgrader, class speed-up, Dask throughput),
``report`` (the item-analysis report's build time for 40 submissions).
"""

import importlib

PARTS = ("core", "site", "grader", "report")


def main(parts=None):
    """Run the benchmark parts (all by default) and return the exit status."""
    status = 0
    for part in parts or PARTS:
        print(f"== {part} ==", flush=True)
        try:
            module = importlib.import_module(f"nnbasics.bench.{part}")
        except ModuleNotFoundError as e:
            print(f"  not available: {e}")
            status = 1
            continue
        status |= module.main() or 0
    return status
