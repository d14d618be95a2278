"""``python -m nnbasics ...``: the same command line as the ``nnbasics`` console script."""

from .cli import console

console()
