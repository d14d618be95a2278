"""``python -m nnbasics ...``: the same command line as the ``nnbasics`` console script."""

import sys

from .cli import main

sys.exit(main())
