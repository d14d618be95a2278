"""``ProbeExecute`` on its own, in the real sandboxed kernel: cells run, and each limit stops the notebook."""

import nbformat
import pytest

from nnbasics.grading import kernel
from nnbasics.grading.limits import Limits, as_config
from nnbasics.grading.steps import LimitExceeded, ProbeExecute


def run(sources, limits):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    config = as_config(limits)
    km = kernel.SandboxKernelManager(config=config)
    try:
        return ProbeExecute(config=config).preprocess(nb, {}, km=km)[0]
    finally:
        kernel.shut_down(km)


def test_cells_run_in_the_kernel_and_keep_their_outputs():
    nb = run(["x = 20 + 1", "print(x * 2)"], Limits())
    assert nb.cells[1].outputs[0]["text"] == "42\n"


@pytest.mark.parametrize(
    ("sources", "limits", "words"),
    [
        (["import time\ntime.sleep(30)"], Limits(cell_timeout=1.5), "per-cell time limit"),
        (["import time\ntime.sleep(1)"] * 30, Limits(cell_timeout=5, notebook_timeout=3), "its 3 s time limit"),
        (["print('x' * 4096)"] * 3, Limits(max_output_kb=8), "more than 8 KiB of output"),
        (["import os\nos._exit(3)"], Limits(), "the kernel died"),
    ],
)
def test_each_limit_stops_the_notebook_with_a_sentence_saying_which(sources, limits, words):
    with pytest.raises(LimitExceeded, match=words):
        run(sources, limits)
