"""The learner's kernel in a box: the command and environment that start ipykernel sandboxed.

On Linux with bubblewrap (``bwrap``) the kernel gets its own user, PID, IPC,
UTS and network namespaces, sees the Python installation read-only and one
private writable directory, and runs as an unprivileged user with no
capabilities. It cannot read the course's solutions, the hidden tests, the
gradebook or other submissions (they are simply not in its filesystem), has
no network (it talks to the grader over Unix sockets in its directory), and
every process it forks dies with it (PID namespace). Resource limits (address
space, CPU time, file size, processes) are set before it starts.

Without bubblewrap (macOS, or a machine that forbids user namespaces) the
kernel still gets the private directory, a scrubbed environment and the
resource limits, but can see the filesystem: ``isolation()`` says which one is
in use and the grader warns about the weaker one.

This module only builds the command and the environment; ``kernel.py`` starts
the kernel with them, through a jupyter_client kernel provisioner.
"""

import functools
import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

_LIMITS_SHIM = """
import os, resource, sys
limits = {limits}
for name, value in limits.items():
    resource.setrlimit(getattr(resource, name), (value, value))
os.execvp(sys.argv[1], sys.argv[1:])
"""


@functools.cache
def isolation():
    """How the kernel is isolated here: ``"bwrap"`` when bubblewrap can start a sandbox, else ``"limits"``.

    With ``"limits"`` the kernel gets its private directory, a scrubbed
    environment and the resource limits, but sees the filesystem.
    """
    bwrap = shutil.which("bwrap")
    if not bwrap or not sys.platform.startswith("linux"):
        return "limits"
    probe = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--cap-drop", "ALL", "true"]
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return "bwrap" if ok else "limits"


def _hidden_paths():
    """Directories the kernel must not see even when they sit inside a bound one.

    The reference package (with, in a wheel, its course/ notebooks), and any
    other ``nnbasics`` folder in site-packages: an editable install puts the
    packaged course notebooks there too.
    """
    hidden = {Path(__file__).resolve().parents[1]}
    for sp in site.getsitepackages():
        hidden.add(Path(sp).resolve() / "nnbasics")
        # ipykernel's debugger: without it the kernel starts ~0.1 s sooner and has no debug port to offer
        hidden.add(Path(sp).resolve() / "debugpy")
    return sorted(p for p in hidden if p.is_dir())


def _visible_roots():
    """Read-only directories the kernel needs: the Python installation and its site-packages.

    Only where packages are *installed*: not the working directory, PYTHONPATH
    or an editable install's source folder, which may be a course checkout
    holding the solutions, the gradebook and other learners' submissions.
    """
    roots = {Path(r).resolve() for r in (sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages())}
    return sorted(r for r in roots if r.is_dir() and not any(other in r.parents for other in roots))


def boxed_command(kernel_argv, kernel_dir, memory_mb, cpu_seconds, how=None):
    """The argv that runs ``kernel_argv`` (ipykernel) boxed and limited.

    Parameters
    ----------
    kernel_argv : list of str
        The kernel's own command, e.g. ``[python, "-m", "ipykernel_launcher", "-f", connection_file]``.
    kernel_dir : str
        The kernel's private, writable working directory.
    memory_mb : int
        The memory cap, MiB.
    cpu_seconds : int
        The CPU-time cap, seconds (a little above the notebook's time limit).
    how : {"bwrap", "limits"}, optional
        Defaults to ``isolation()``.

    Returns
    -------
    list of str
    """
    rlimits = {
        # DATA counts the heap and anonymous memory (NumPy arrays): that is the memory cap. AS also
        # counts the ~0.7 GiB of mapped libraries an idle kernel holds; it bounds what DATA misses.
        "RLIMIT_DATA": memory_mb * 2**20,
        "RLIMIT_AS": (memory_mb + 2048) * 2**20,
        "RLIMIT_CPU": int(cpu_seconds),
        "RLIMIT_FSIZE": 64 * 2**20,
        "RLIMIT_CORE": 0,
    }
    if os.getuid() != 0:  # NPROC counts every process of the real user; root's would hit it at once
        rlimits["RLIMIT_NPROC"] = 512
    shim = [sys.executable, "-S", "-c", _LIMITS_SHIM.format(limits=json.dumps(rlimits))]
    if (how or isolation()) != "bwrap":
        return [*shim, *kernel_argv]
    box = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    box += ["--uid", "65534", "--gid", "65534", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for system in ("/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/alternatives", "/etc/fonts"):
        if os.path.exists(system):
            box += ["--ro-bind", system, system]
    roots = _visible_roots()
    for root in roots:
        box += ["--ro-bind", str(root), str(root)]
    for hidden in _hidden_paths():
        if any(root in hidden.parents for root in roots):
            box += ["--tmpfs", str(hidden)]
    box += ["--bind", kernel_dir, kernel_dir, "--chdir", kernel_dir]
    # In its PID namespace the kernel's parent is bwrap's init (pid 1), which ipykernel would read as
    # "parent died": turn its parent polling off; --die-with-parent ties it to the grader instead.
    return [*shim, *box, "--", *kernel_argv, "--IPKernelApp.parent_handle=1"]


def kernel_env(kernel_dir):
    """A scrubbed environment: nothing of the grader's, caches and config inside ``kernel_dir``."""
    return {
        "HOME": kernel_dir,
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TMPDIR": kernel_dir,
        "IPYTHONDIR": os.path.join(kernel_dir, ".ipython"),
        "JUPYTER_CONFIG_DIR": os.path.join(kernel_dir, ".jupyter"),
        "JUPYTER_DATA_DIR": os.path.join(kernel_dir, ".jupyter"),
        "JUPYTER_RUNTIME_DIR": os.path.join(kernel_dir, ".jupyter"),
        "MPLCONFIGDIR": os.path.join(kernel_dir, ".matplotlib"),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        # one BLAS thread: kernels run side by side, and each thread reserves address space
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
