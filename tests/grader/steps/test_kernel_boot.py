"""What the grader's kernel does at boot (kernel_boot.py), walked in real sandboxed kernels.

The checks cell must leave the learner's namespace exactly as IPython running
the cell as written would: the same names, the same ``__doc__``. Which of the
two ran is told by where the helpers' code comes from (``co_filename``).
"""

import json

import nbformat
from nbclient import NotebookClient

from nnbasics.grading import checks, kernel
from nnbasics.grading.authoring import checks_cell_source
from nnbasics.grading.limits import Limits, as_config

# what a cell leaves in the learner's namespace (IPython's own history names aside), as one JSON line
NAMESPACE = (
    "import json as _j\n"
    "print(_j.dumps({'names': sorted(n for n in globals() if not n.startswith('_')),"
    " 'doc': globals().get('__doc__'), 'file': check.__code__.co_filename if 'check' in globals() else None}))"
)


def run(*sources):
    """Run cells in a new sandboxed kernel; the JSON that the last one printed."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    km = kernel.SandboxKernelManager(config=as_config(Limits()))
    try:
        NotebookClient(nb, km=km).execute(cleanup_kc=True)
    finally:
        kernel.shut_down(km)
    for cell in nb.cells:
        errors = [o for o in cell.outputs if o["output_type"] == "error"]
        assert not errors, errors[0]["evalue"]
    return json.loads(nb.cells[-1].outputs[-1]["text"])


def test_the_kernel_boots_with_numpy_and_the_helpers_and_no_name_of_its_own():
    booted = run(
        "import sys\n"
        "print(__import__('json').dumps({'names': sorted(n for n in globals() if not n.startswith('_')),"
        " 'numpy': 'numpy' in sys.modules, 'helpers': type(getattr(sys, '_nnbasics_checks', None)).__name__,"
        " 'debugpy at boot': 'debugpy' in sys.modules, 'debugpy': __import__('debugpy').__name__}))"
    )
    assert booted == {
        "names": ["In", "Out", "exit", "get_ipython", "open", "quit", "sys"],
        "numpy": True,
        "helpers": "code",
        "debugpy at boot": False,  # ipykernel's debugger was skipped at launch
        "debugpy": "debugpy",  # and learner code can still import it
    }


def test_the_checks_cell_runs_the_preloaded_helpers_and_leaves_the_namespace_it_would_as_written():
    cell = checks_cell_source()
    preloaded = run(cell, NAMESPACE)
    trailing = run(cell + "\n\n", NAMESPACE)  # trailing newlines change no code
    edited = run(cell.replace("# Test helpers", "# test helpers", 1), NAMESPACE)  # one character: as written
    assert preloaded["file"] == trailing["file"] == "nnbasics-checks"
    assert edited["file"] != "nnbasics-checks"
    assert preloaded["names"] == edited["names"] and "check" in preloaded["names"]
    assert preloaded["doc"] == edited["doc"] == checks.__doc__  # IPython runs a cell as a module
