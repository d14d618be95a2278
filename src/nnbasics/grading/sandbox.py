"""The learner's kernel in a box: a Jupyter kernel manager that starts ipykernel sandboxed.

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
resource limits, but can see the filesystem: ``level()`` says which one is in
use and the grader warns about the weaker one.
"""

import functools
import json
import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Float, Integer, Unicode


@dataclass(frozen=True)
class Limits:
    """What one notebook's kernel may use.

    ``cell_timeout`` and ``notebook_timeout`` are wall-clock seconds,
    ``memory_mb`` the kernel's address-space cap in MiB, ``max_output_kb`` the
    output (text, images, errors) the grader accepts from it in KiB.
    """

    cell_timeout: float = 10.0
    notebook_timeout: float = 120.0
    memory_mb: int = 2048
    max_output_kb: int = 1024


_LIMITS_SHIM = """
import os, resource, sys
limits = {limits}
for name, value in limits.items():
    resource.setrlimit(getattr(resource, name), (value, value))
os.execvp(sys.argv[1], sys.argv[1:])
"""


@functools.cache
def level():
    """``"bwrap"`` when bubblewrap can start a sandbox here, else ``"basic"``."""
    bwrap = shutil.which("bwrap")
    if not bwrap or not sys.platform.startswith("linux"):
        return "basic"
    probe = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--cap-drop", "ALL", "true"]
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return "bwrap" if ok else "basic"


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


def kernel_command(kernel_dir, connection_file, limits, sandbox=None):
    """The argv that starts ipykernel for one notebook, boxed and limited.

    Parameters
    ----------
    kernel_dir : str
        The kernel's private, writable working directory.
    connection_file : str
        The kernel's connection file (inside ``kernel_dir``).
    limits : Limits
    sandbox : {"bwrap", "basic"}, optional
        Defaults to ``level()``.

    Returns
    -------
    list of str
    """
    rlimits = {
        # DATA counts the heap and anonymous memory (NumPy arrays): that is the memory cap. AS also
        # counts the ~0.7 GiB of mapped libraries an idle kernel holds; it bounds what DATA misses.
        "RLIMIT_DATA": limits.memory_mb * 2**20,
        "RLIMIT_AS": (limits.memory_mb + 2048) * 2**20,
        "RLIMIT_CPU": int(limits.notebook_timeout) + 5,
        "RLIMIT_FSIZE": 64 * 2**20,
        "RLIMIT_CORE": 0,
    }
    if os.getuid() != 0:  # NPROC counts every process of the real user; root's would hit it at once
        rlimits["RLIMIT_NPROC"] = 512
    shim = [sys.executable, "-S", "-c", _LIMITS_SHIM.format(limits=json.dumps(rlimits))]
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
    if (sandbox or level()) != "bwrap":
        return [*shim, *kernel]
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
    return [*shim, *box, "--", *kernel, "--IPKernelApp.parent_handle=1"]


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


class SandboxKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel runs boxed in ``kernel_dir`` (see the module docstring).

    It talks to the kernel over Unix sockets inside ``kernel_dir``, so the
    kernel needs no network. Configure it through traitlets, e.g.
    ``Execute.kernel_manager_class = SandboxKernelManager`` with
    ``SandboxKernelManager.kernel_dir`` set.
    """

    kernel_dir = Unicode(help="the kernel's private working directory").tag(config=True)
    memory_mb = Integer(2048, help="memory cap of the kernel, MiB").tag(config=True)
    notebook_timeout = Float(120.0, help="the notebook's time limit; the kernel's CPU cap is a bit above").tag(
        config=True
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.ip = os.path.join(self.kernel_dir, "ipc")
        self.connection_file = os.path.join(self.kernel_dir, "kernel.json")

    def format_kernel_cmd(self, extra_arguments=None):
        limits = Limits(memory_mb=self.memory_mb, notebook_timeout=self.notebook_timeout)
        return kernel_command(self.kernel_dir, self.connection_file, limits) + list(extra_arguments or [])

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = kernel_env(self.kernel_dir)
        kw["cwd"] = self.kernel_dir
        for sub in (".ipython", ".jupyter", ".matplotlib"):
            os.makedirs(os.path.join(self.kernel_dir, sub), exist_ok=True)
        return await super()._async_pre_start_kernel(**kw)


# -- kernels started ahead of time ------------------------------------------------
# A learner grading five notebooks waits mostly for imports (the grader's, ~1 s) and kernel start-ups
# (~0.5 s each). `prestart` launches the boxed kernels first, so they boot on the other core while the
# grader imports nbgrader; the forked worker that grades a notebook then adopts its kernel.


@dataclass(frozen=True)
class Prestarted:
    """A kernel launched by ``prestart``: its private directory, connection file and process id."""

    kernel_dir: str
    connection_file: str
    pid: int


def prestart(limits):
    """Launch one boxed kernel now, without waiting for it; returns ``(Prestarted, Popen)``."""
    import tempfile

    from jupyter_client.connect import write_connection_file

    kernel_dir = tempfile.mkdtemp(prefix="nnbasics-kernel-")
    for sub in (".ipython", ".jupyter", ".matplotlib"):
        os.makedirs(os.path.join(kernel_dir, sub))
    connection_file, _ = write_connection_file(
        os.path.join(kernel_dir, "kernel.json"), transport="ipc", ip=os.path.join(kernel_dir, "ipc")
    )
    cmd = [*kernel_command(kernel_dir, connection_file, limits), "--HistoryManager.hist_file=:memory:"]
    proc = subprocess.Popen(
        cmd,
        env=kernel_env(kernel_dir),
        cwd=kernel_dir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Prestarted(kernel_dir, connection_file, proc.pid), proc


def discard(prestarted, proc):
    """Kill a prestarted kernel if it still runs, reap it, and remove its directory."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    shutil.rmtree(prestarted.kernel_dir, ignore_errors=True)


class _Adopted:
    """A Popen-like handle on a kernel that another process (the grader's parent) launched.

    Liveness comes from /proc, since only the parent can wait() for it: a
    kernel that exited is a zombie until then, and counts as dead.
    """

    def __init__(self, pid):
        self.pid, self.returncode = pid, None
        self.stdin = self.stdout = self.stderr = None

    def poll(self):
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            state = b"X"
        if state in (b"Z", b"X"):
            self.returncode = -9
        return self.returncode

    def wait(self, timeout=None):
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum):
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self):
        self.send_signal(9)

    def terminate(self):
        self.send_signal(15)


def adopt(config, prestarted, proc=None):
    """A ``SandboxKernelManager`` driving a kernel started by ``prestart``.

    ``proc`` is its ``Popen`` when this process started it; without it (the
    parent did), the kernel is followed through /proc.
    """
    from jupyter_client.provisioning import LocalProvisioner

    km = SandboxKernelManager(config=config)
    km.load_connection_file(prestarted.connection_file)
    provisioner = LocalProvisioner(kernel_id="prestarted", kernel_spec=km.kernel_spec, parent=km)
    provisioner.process = proc or _Adopted(prestarted.pid)
    provisioner.pid = provisioner.pgid = prestarted.pid  # start_new_session: it leads its own group
    km.provisioner = provisioner
    km._connect_control_socket()  # what start_kernel would have done, for shutdown requests
    return km


def shut_down(km):
    """Shut an adopted kernel down if it still runs (nbclient leaves kernels it did not start)."""
    from jupyter_client.utils import run_sync

    if km.has_kernel:
        run_sync(km.shutdown_kernel)(now=True)
