"""Reading submitted files safely: regular files only, bounded in size, never through a link out of bounds.

Both commands read what learners hand in through here: ``nnbasics grade``
(the paths on its command line) and ``grade-class`` (each
``submitted/<student>/<assignment>/<notebook>.ipynb``, which must not be a
link to another student's file or to anything outside the class). A file
that cannot be graded gives a one-sentence reason instead of bytes, at once:
a FIFO or a device is never opened for reading (it could block forever), and
a file larger than the limit is never read whole.
"""

import os
import stat
from pathlib import Path

MAX_NOTEBOOK_BYTES = 64 << 20  # an exercise notebook is well under 1 MiB; this leaves room for outputs


def read_submission(path, within=None, limit=MAX_NOTEBOOK_BYTES):
    """The bytes of the notebook at ``path``, or a one-sentence reason why it cannot be read.

    Parameters
    ----------
    path : str or pathlib.Path
    within : pathlib.Path, optional
        When given, ``path`` (after following any links) must lie inside this
        folder, e.g. the student's own submission folder.
    limit : int
        Largest size read, in bytes.

    Returns
    -------
    bytes or str
    """
    p = Path(path)
    try:
        if within is not None:
            real, bound = p.resolve(strict=True), Path(within).resolve(strict=True)
            if real != bound and bound not in real.parents:
                return f"{p} is a link to a file outside its own folder ({real}), so it is not graded"
        info = os.stat(p)
        if not stat.S_ISREG(info.st_mode):
            return f"{p} is not a regular file (a pipe, a device or a socket), so it is not read"
        if info.st_size > limit:
            return f"{p} is {info.st_size >> 20} MiB, larger than the {limit >> 20} MiB a notebook may be"
        # O_NONBLOCK: if the file was swapped for a pipe since stat, opening it does not wait for a writer
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return f"{p} is not a regular file (a pipe, a device or a socket), so it is not read"
            data = f.read(limit + 1)
    except FileNotFoundError:
        return f"{p} does not exist" if not p.is_symlink() else f"{p} is a link to a file that does not exist"
    except PermissionError:
        return f"{p} cannot be read (permission denied)"
    except OSError as e:
        return f"{p} cannot be read ({e.strerror or e})"
    if len(data) > limit:
        return f"{p} is larger than the {limit >> 20} MiB a notebook may be"
    return data


def expand(paths):
    """Turn the command-line paths into ``(path, bytes or reason)`` pairs, in order (folders: their notebooks)."""
    items = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix == ".ipynb" and not q.is_dir())
            if not found:
                items.append((str(p), f"{p} is a folder with no notebooks in it"))
            items.extend((str(q), read_submission(q)) for q in found)
        else:
            items.append((str(p), read_submission(p)))
    return items
