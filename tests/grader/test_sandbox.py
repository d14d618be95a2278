"""The learner's kernel, seen from inside: what it can read, write, reach and leave behind."""

import os
import shutil
import subprocess

import nbformat
import pytest
from nbclient import NotebookClient
from testkit.notebooks import REPO
from traitlets.config import Config

from nnbasics.grading.kernel import SandboxKernelManager
from nnbasics.grading.sandbox import boxed_command, isolation

PROBES = {
    "uid": "import os; print(os.getuid())",
    "solutions": f"import os; print(os.path.exists({str(REPO / 'solutions')!r}))",
    "checkout": f"import os; print(os.path.exists({str(REPO / 'README.md')!r}))",
    "reference": "try:\n    from nnbasics import sigmoid; print(True)\nexcept ImportError:\n    print(False)",
    "course": "import glob, sys; print(bool(glob.glob(sys.prefix + '/**/01_neuron*.ipynb', recursive=True)))",
    "network": "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); print(True)\n"
    "except OSError:\n    print(False)",
    "writes_venv": "import sys\ntry:\n    open(sys.prefix + '/owned', 'w'); print(True)\nexcept OSError:\n    print(False)",
    "numpy": "import numpy; print(numpy.ones(3).sum() == 3)",
    "memory": "import resource; print(resource.getrlimit(resource.RLIMIT_DATA)[0] == 512 * 2**20)",
    "allocate": "import numpy as np\ntry:\n    np.ones((1024, 1024, 96)); print(True)\nexcept MemoryError:\n    print(False)",
}


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_the_kernel_sees_only_what_it_needs(tmp_path):
    assert isolation() == "bwrap"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in PROBES.values()])
    config = Config()
    config.SandboxKernelManager.kernel_dir = str(tmp_path)
    config.SandboxKernelManager.memory_mb = 512
    client = NotebookClient(
        nb,
        kernel_manager_class=SandboxKernelManager,
        config=config,
        timeout=30,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    seen = {name: cell.outputs[0]["text"].strip() for name, cell in zip(PROBES, nb.cells)}
    assert seen == {
        "uid": "65534",
        "solutions": "False",
        "checkout": "False",
        "reference": "False",
        "course": "False",  # an editable install copies the course notebooks into site-packages: hidden
        "network": "False",
        "writes_venv": "False",
        "numpy": "True",
        "memory": "True",
        "allocate": "False",  # 768 MiB is over the 512 MiB cap
    }
    assert not (REPO / ".venv" / "owned").exists()


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_processes_started_in_the_box_end_with_it(tmp_path):
    cmd = boxed_command(["true"], str(tmp_path), memory_mb=2048, cpu_seconds=125)
    at = next(i for i, arg in enumerate(cmd) if os.path.basename(arg) == "bwrap")
    shim, box = cmd[:at], cmd[at : cmd.index("--") + 1]
    # a daemon that double-forks away from its parent still lives in the box's PID namespace
    subprocess.run([*shim, *box, "sh", "-c", "setsid sleep 271.5 > /dev/null 2>&1 &"], timeout=30, check=True)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 271.5" not in ps
