"""Starting the learner's kernel: one way, through jupyter_client's documented kernel-provisioner API.

``SandboxKernelManager`` is an ``AsyncKernelManager`` whose kernel spec
(ipykernel, whatever the notebook names) asks for the ``nnbasics-sandbox``
provisioner (registered as an entry point in pyproject.toml).
``SandboxProvisioner`` launches the kernel with ``sandbox.boxed_command`` and
``sandbox.kernel_env`` in a private directory, in cgroups of its own where the
machine has them (``caps.make_cgroups``, removed with the kernel), and talks
to it over Unix sockets in that directory (TCP on 127.0.0.1 where there are
none). When a cap stopped the kernel, ``limit_hit`` says which.

A kernel can be launched *ahead* (``launch_ahead``): a learner grading five
notebooks waits mostly for imports (the grader's, about 1 s) and kernel
start-ups (about 0.5 s each), so ``nnbasics grade`` starts the kernels first,
and they boot on the other core while the grader imports nbgrader. The
process that grades the notebook (a forked worker) then *adopts* the kernel:
its manager is configured with the kernel's directory and process id
(``adoption_config``), and its provisioner connects to that kernel instead of
launching a new one. Both cases go through ``start_kernel`` and the same
provisioner; nothing private of jupyter_client is touched.
"""

import contextlib
import os
import shutil
import signal
import sys
import tempfile

import psutil
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_client.session import Session
from jupyter_client.utils import run_sync
from traitlets import Integer, Unicode
from traitlets.config import Config

from . import caps, kernel_boot, sandbox
from .limits import may_hold_surrogates

PROVISIONER = "nnbasics-sandbox"  # its entry point name (pyproject.toml)
HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"  # nbclient's default for ipykernel
# NumPy and the compiled test helpers are loaded while the kernel boots, in parallel with the grader's own
# start-up (kernel_boot.py, copied into the kernel's directory with checks.py)
BOOT = f"--IPKernelApp.exec_lines={kernel_boot.BOOT_LINE}"
_BOOT_FILES = {kernel_boot.BOOT_FILE: "kernel_boot.py", kernel_boot.CHECKS_FILE: "checks.py"}


# zmq's ipc:// endpoints are Unix socket paths, which hold at most 103 bytes on macOS (107 on Linux)
MAX_SOCKET_PATH = 103
_LONGEST_SOCKET = os.path.join("nnbasics-kernel-01234567", sandbox.SOCKETS, "ipc-99")  # mkdtemp adds 8 characters
SHORT_TEMP_DIRS = ("/tmp", "/var/tmp")


def kernels_parent():
    """The folder in which kernel folders are made: the temporary one, unless its path is too long for sockets.

    A long ``TMPDIR`` (a deep home directory, a CI runner's work folder)
    would make the kernel's socket paths longer than the system allows, and
    the kernel unreachable: its folder then goes in ``/tmp`` (or
    ``/var/tmp``). Windows kernels use TCP, where no path is involved.
    """
    temp = tempfile.gettempdir()
    if os.name != "posix" or len(os.path.join(temp, _LONGEST_SOCKET)) <= MAX_SOCKET_PATH:
        return temp
    for short in SHORT_TEMP_DIRS:
        if os.path.isdir(short) and os.access(short, os.W_OK | os.X_OK):
            return short
    raise RuntimeError(
        f"the temporary folder's path ({len(temp)} characters) is too long for the kernel's sockets and there is"
        f" no {' or '.join(SHORT_TEMP_DIRS)}: set TMPDIR to a shorter path"
    )


# The kernel talks to the grader over zmq only: its own stdout and stderr (what learner code writes with
# os.write(1, ...) or a C library's printf) would otherwise be the grader's, there to corrupt `--json` or flood the
# terminal past the output cap. They go to the null device; bubblewrap and the supervisor keep the grader's stderr
# for their own one-line messages. Then ipykernel starts as `python -m ipykernel_launcher` would, without its
# debugger (kernel_boot.SKIPPED_AT_LAUNCH).
#
# ipykernel imports the jupyter_client package, whose __init__ imports all of it (kernel managers, provisioners and
# with them importlib.metadata and email: 36 modules, 15-25 ms of each kernel's start), where the kernel uses its
# session and connection modules and one class name (the default of ConnectionFileMixin.blocking_class, resolved
# when the kernel's app is made). So the package is made without running its __init__ (its modules still import as
# usual), and a name asked of the package itself (not one of its modules) is taken from the module that defines it
# (LIGHT_NAMES, or jupyter_client.connect, where ipykernel's write_connection_file is), or else found by running the
# __init__ after all.
LIGHT_NAMES = {"BlockingKernelClient": "jupyter_client.blocking"}
LAZY_JUPYTER_CLIENT = (
    "import importlib, importlib.util\n"
    "def _jupyter_client():\n"
    "    spec = importlib.util.find_spec('jupyter_client')\n"
    "    package = sys.modules['jupyter_client'] = importlib.util.module_from_spec(spec)\n"
    "    def rest(name):\n"
    "        if importlib.util.find_spec(f'jupyter_client.{name}'):  # a module: for the import system to import\n"
    "            raise AttributeError(name)\n"
    "        connect = importlib.import_module('jupyter_client.connect')\n"
    "        if name in connect.__all__:\n"
    "            return getattr(connect, name)\n"
    f"        if name in {LIGHT_NAMES!r}:\n"
    f"            return getattr(importlib.import_module({LIGHT_NAMES!r}[name]), name)\n"
    "        del package.__getattr__\n"
    "        spec.loader.exec_module(package)\n"
    "        return getattr(package, name)\n"
    "    package.__getattr__ = rest\n"
    "_jupyter_client()\n"
    "del _jupyter_client\n"
)
QUIET_LAUNCH = (
    "import os, runpy, sys\n"
    "null = os.open(os.devnull, os.O_WRONLY)\n"
    "os.dup2(null, 1)\n"
    "os.dup2(null, 2)\n"
    "os.close(null)\n"
    f"sys.modules.update(dict.fromkeys({kernel_boot.SKIPPED_AT_LAUNCH!r}))\n"
    f"{LAZY_JUPYTER_CLIENT}"
    "sys.argv[0] = 'ipykernel_launcher'\n"
    "runpy.run_module('ipykernel_launcher', run_name='__main__', alter_sys=True)\n"
)


class SandboxKernelSpecManager(KernelSpecManager):
    """Every kernel name resolves to ipykernel in the sandbox: a notebook cannot choose its kernel."""

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(
            argv=[sys.executable, "-c", QUIET_LAUNCH, "-f", "{connection_file}", BOOT],
            display_name="Python 3 (nnbasics sandbox)",
            language="python",
            metadata={"kernel_provisioner": {"provisioner_name": PROVISIONER}},
        )


# what a SandboxKernelManager's session notes on every message it reads (SizedSession)
CONTENT_BYTES = "nnbasics_content_bytes"
MAY_HOLD_SURROGATES = "nnbasics_may_hold_surrogates"


class SizedSession(Session):
    """jupyter_client's ``Session``, which notes on each message it reads how many bytes its content took.

    The grader counts what the kernel sends against the output cap. The
    content's JSON arrives as one frame, so its size is known without
    encoding the content again (that took 50 ms for the 16 MB of test results
    of 03_initialization). Whether it may hold a lone surrogate (a ``\\udXXX``
    escape, the only way one gets into decoded JSON) is read on that frame too.
    """

    def deserialize(self, msg_list, content=True, copy=True):
        msg = super().deserialize(msg_list, content=content, copy=copy)
        frame = msg_list[4]  # signature, header, parent header, metadata, content, buffers (checked above)
        data = frame if isinstance(frame, bytes) else frame.bytes
        msg[CONTENT_BYTES], msg[MAY_HOLD_SURROGATES] = len(data), may_hold_surrogates(data)
        return msg


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs boxed in ``kernel_dir``; configure it through traitlets.

    Without ``kernel_dir`` its provisioner makes a private temporary directory
    when the kernel starts, and removes it when the kernel is cleaned up.
    """

    kernel_dir = Unicode("", help="the kernel's private working directory (default: a new temporary one)").tag(
        config=True
    )
    memory_mb = Integer(2048, help="memory cap of the kernel, MiB").tag(config=True)
    cpu_seconds = Integer(125, help="CPU-time cap of the kernel, seconds").tag(config=True)
    adopt_pid = Integer(0, help="process id of a kernel launched ahead in kernel_dir, to adopt (0: launch)").tag(
        config=True
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kernel_spec_manager = SandboxKernelSpecManager(parent=self)
        self.kernel_name = "python3"  # ipykernel: nbclient then keeps its history in memory

    def _session_default(self):  # (traitlets' default; its clients share it)
        return SizedSession(parent=self)

    def prepare_kernel_dir(self):
        """Make (if needed) the kernel's directory and point the connection at it; True if it made one."""
        made = not self.kernel_dir
        if made:
            self.kernel_dir = tempfile.mkdtemp(prefix="nnbasics-kernel-", dir=kernels_parent())
        for sub in (".ipython", ".jupyter", ".matplotlib"):
            os.makedirs(os.path.join(self.kernel_dir, sub), exist_ok=True)
        self.transport = "ipc" if os.name == "posix" else "tcp"  # Windows has no Unix sockets for zmq
        self.ip = os.path.join(sandbox.socket_dir(self.kernel_dir), "ipc") if self.transport == "ipc" else "127.0.0.1"
        self.connection_file = os.path.join(self.kernel_dir, sandbox.CONNECTION_FILE)
        return made

    def write_boot_files(self):
        """Copy what the kernel runs at boot into its directory (read-only inside the sandbox)."""
        for name, ours in _BOOT_FILES.items():
            shutil.copyfile(os.path.join(os.path.dirname(__file__), ours), os.path.join(self.kernel_dir, name))


class _AdoptedProcess:
    """The handle a provisioner keeps on a kernel another process launched (so it cannot ``wait()`` on it).

    It offers what ``LocalProvisioner`` uses of a ``Popen``, through psutil; a
    kernel that exited and is left a zombie counts as dead.
    """

    def __init__(self, pid):
        self.pid, self.returncode = pid, None
        self.stdin = self.stdout = self.stderr = None
        try:
            self._process = psutil.Process(pid)
        except psutil.Error:
            self._process, self.returncode = None, -9

    def poll(self):
        if self.returncode is None:
            try:
                if self._process.status() == psutil.STATUS_ZOMBIE:
                    self.returncode = -9
            except psutil.Error:
                self.returncode = -9
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            try:
                self._process.wait(timeout)
            except psutil.TimeoutExpired:
                raise
            except psutil.Error:
                pass
            self.returncode = -9
        return self.returncode

    def _while_alive(self, act, *args):
        if self.poll() is None:
            with contextlib.suppress(psutil.Error):  # it ended meanwhile
                getattr(self._process, act)(*args)

    def send_signal(self, signum):
        self._while_alive("send_signal", signum)

    def kill(self):
        self._while_alive("kill")

    def terminate(self):
        self._while_alive("terminate")


class SandboxProvisioner(LocalProvisioner):
    """Launch ipykernel boxed and limited (``sandbox.py``), or adopt one that ``launch_ahead`` launched."""

    made_dir = False
    limit = None  # the sentence of the cap that stopped the kernel, read once it is dead (limit_hit)
    _looked = False

    async def pre_launch(self, **kwargs):
        km = self.parent
        self.made_dir = km.prepare_kernel_dir() or self.made_dir
        kwargs["env"] = sandbox.kernel_env(km.kernel_dir)
        kwargs["cwd"] = km.kernel_dir  # never the notebook's folder (nbgrader passes autograded/<student>/...)
        if km.adopt_pid:
            # the kernel already runs: take its ports and key from its connection file, launch nothing
            km.load_connection_file(km.connection_file)
            self.connection_info = km.get_connection_info()
            kwargs.pop("extra_arguments", None)
            return {**kwargs, "cmd": []}
        km.write_boot_files()
        kwargs = await super().pre_launch(**kwargs)
        with contextlib.suppress(FileNotFoundError):  # a reused directory: the last kernel's cause is not this one's
            os.remove(os.path.join(km.kernel_dir, caps.CAUSE_FILE))
        groups = caps.make_cgroups(km.kernel_dir, km.memory_mb)
        kwargs["cmd"] = sandbox.boxed_command(
            kwargs["cmd"], km.kernel_dir, km.memory_mb, km.cpu_seconds, cgroups=groups
        )
        return kwargs

    async def launch_kernel(self, cmd, **kwargs):
        km = self.parent
        if not km.adopt_pid:
            return await super().launch_kernel(cmd, **kwargs)
        self.process = _AdoptedProcess(km.adopt_pid)
        self.pid = self.pgid = km.adopt_pid  # launched in a new session: it leads its own process group
        self.cwd = km.kernel_dir
        return self.connection_info

    async def kill(self, restart=False):
        """Kill the kernel's whole tree: its process group, what left it (cgroups), or (Windows) its descendants."""
        # no process groups: killing the supervisor alone would leave the kernel
        tree = [] if hasattr(os, "killpg") else _descendants(self.pid)
        await super().kill(restart=restart)
        _kill_all(tree)
        caps.kill_cgroups(self.parent.kernel_dir)

    async def poll(self):
        status = await super().poll()
        if status is not None:
            self._look()
        return status

    def _look(self):
        """Read which cap stopped the kernel (the supervisor wrote it before the kernel died), once."""
        if not self._looked and self.parent is not None and self.parent.kernel_dir:
            self._looked = True
            self.limit = caps.limit_hit(self.parent.kernel_dir)

    async def cleanup(self, restart=False):
        self._look()  # before the directory goes
        await super().cleanup(restart=restart)
        if restart:
            self.limit, self._looked = None, False
        else:
            caps.remove_cgroups(self.parent.kernel_dir)
        if self.made_dir and not restart:
            shutil.rmtree(self.parent.kernel_dir, ignore_errors=True)


def _descendants(pid):
    """The processes ``pid`` started, recursively (none if it is gone or unknown)."""
    try:
        return psutil.Process(pid).children(recursive=True) if pid else []
    except psutil.Error:
        return []


def _kill_all(processes):
    for p in processes:
        with contextlib.suppress(psutil.Error):  # it ended meanwhile
            p.kill()


def kill_now(km):
    """Kill the kernel's tree as ``SandboxProvisioner.kill`` does, from any thread (that one is a coroutine of its loop)."""
    provisioner = km.provisioner
    pid = getattr(provisioner, "pid", None)
    if not pid:
        return
    if hasattr(os, "killpg") and provisioner.pgid:  # launched in a session of its own: it leads its process group
        with contextlib.suppress(OSError):
            os.killpg(provisioner.pgid, signal.SIGKILL)
    else:
        _kill_all(_descendants(pid))
        with contextlib.suppress(psutil.Error):  # it ended meanwhile
            psutil.Process(pid).kill()
    caps.kill_cgroups(km.kernel_dir)


def limit_hit(km):
    """The sentence saying which cap (processes, memory, CPU time, files) stopped ``km``'s kernel, or None.

    Written by the kernel's supervisor before it killed the kernel, and kept by
    the provisioner from the moment it finds the kernel dead (so it is still
    known after the manager's cleanup removed the kernel's directory).
    """
    provisioner = km.provisioner
    if isinstance(provisioner, SandboxProvisioner) and provisioner.limit:
        return provisioner.limit
    return caps.limit_hit(km.kernel_dir) if km.kernel_dir else None


def launch_ahead(config):
    """Launch a boxed kernel now, without waiting for it to be ready; returns its (started) manager.

    Another process adopts it with ``adoption_config(config, km.kernel_dir,
    km.provisioner.pid)``; call ``discard(km)`` in this one when that is done.
    """
    km = SandboxKernelManager(config=config)
    run_sync(km.start_kernel)(extra_arguments=[HISTORY_IN_MEMORY])
    return km


def adoption_config(config, kernel_dir, pid):
    """``config`` plus what makes a ``SandboxKernelManager`` adopt the kernel launched ahead in ``kernel_dir``."""
    adopted = Config(config)
    adopted.SandboxKernelManager.kernel_dir = kernel_dir
    adopted.SandboxKernelManager.adopt_pid = pid
    return adopted


def shut_down(km):
    """Stop a kernel now if it still runs, and release what its manager holds (its directory too)."""
    if km.has_kernel:
        run_sync(km.shutdown_kernel)(now=True)


def discard(km):
    """The launching side's end of a kernel launched ahead: kill it if it still runs, reap it, clean up."""
    shut_down(km)
