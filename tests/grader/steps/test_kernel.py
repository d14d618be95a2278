"""The learner's kernel: started through the sandbox provisioner, or launched ahead and adopted."""

import os

import nbformat
import psutil
from nbclient import NotebookClient

from nnbasics.grading import kernel
from nnbasics.grading.limits import Limits, as_config


def execute(km, source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, km=km).execute(cleanup_kc=True)  # close its channels (and stop the kernel)
    return nb.cells[0].outputs[0]["text"].strip()


def test_a_kernel_started_by_its_manager_runs_boxed_in_its_own_directory():
    km = kernel.SandboxKernelManager(config=as_config(Limits()))
    try:
        assert execute(km, "import os; print(os.getcwd())") == km.kernel_dir
        assert isinstance(km.provisioner, kernel.SandboxProvisioner)
        folder = km.kernel_dir
    finally:
        kernel.shut_down(km)
    assert not os.path.exists(folder)  # a directory the provisioner made is removed with the kernel


def test_a_kernel_launched_ahead_is_adopted_and_ends_with_its_launcher():
    config = as_config(Limits())
    ahead = kernel.launch_ahead(config)
    pid, folder = ahead.provisioner.pid, ahead.kernel_dir
    adopted = kernel.SandboxKernelManager(config=kernel.adoption_config(config, folder, pid))
    try:
        # the adopting manager launches nothing: the kernel it talks to is the one launched ahead
        assert execute(adopted, "import os; print(os.getcwd())") == folder
        assert adopted.provisioner.pid == pid and psutil.pid_exists(pid)
    finally:
        kernel.shut_down(adopted)
        kernel.discard(ahead)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not os.path.exists(folder)


def test_whatever_kernel_a_notebook_names_its_manager_is_ipykernels():
    """nbclient keeps ipykernel's history in memory only for a manager it takes for ipykernel's (``km.ipykernel``)."""
    km = kernel.SandboxKernelManager(kernel_name="some-conda-env")
    assert km.kernel_name == "python3" and km.ipykernel
    assert isinstance(km.session, kernel.SizedSession)


LOADED = (
    "import sys; print(sorted(m for m in ('jupyter_client.manager', 'jupyter_client.provisioning', "
    "'importlib.metadata') if m in sys.modules))"
)


def test_the_kernel_starts_without_jupyter_clients_managers_and_learner_code_still_gets_the_whole_package():
    """The kernel's start skips the package's __init__ (kernel.LAZY_JUPYTER_CLIENT); asking the package for a name
    gives the same object as the full package does."""
    km = kernel.SandboxKernelManager(config=as_config(Limits()))
    try:
        nb = nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_code_cell(LOADED),
                nbformat.v4.new_code_cell(
                    "import jupyter_client, jupyter_client.manager as m, jupyter_client.connect as c\n"
                    "from jupyter_client import write_connection_file, BlockingKernelClient\n"
                    "print(jupyter_client.__version__ == jupyter_client._version.__version__,"
                    " jupyter_client.KernelManager is m.KernelManager, write_connection_file is c.write_connection_file,"
                    " BlockingKernelClient.__module__)"
                ),
            ]
        )
        NotebookClient(nb, km=km).execute(cleanup_kc=True)
    finally:
        kernel.shut_down(km)
    assert nb.cells[0].outputs[0]["text"].strip() == "[]"
    assert nb.cells[1].outputs[0]["text"].split() == ["True", "True", "True", "jupyter_client.blocking.client"]
