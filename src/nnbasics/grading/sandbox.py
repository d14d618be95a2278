"""The learner's kernel in a box: the command and environment that start ipykernel sandboxed and capped.

On Linux with bubblewrap (``bwrap``) the kernel gets its own user, PID, IPC,
UTS, cgroup and network namespaces, sees the Python installation read-only,
and runs as an unprivileged user with no capabilities. Everything it can
write is a size-capped tmpfs of its own: its working directory
(``caps.WORKDIR_MB``), ``/tmp`` and ``/dev/shm``; the rest of its root is
read-only. It cannot read the course's solutions, the hidden tests, the
gradebook or other submissions (they are not in its filesystem), has no
network (the grader reaches its sockets through the sandbox's own root, see
``supervisor.py``), cannot use the kernel keyrings or make a user namespace
(a seccomp filter, ``caps.seccomp_program``), and every process it forks
dies with it (PID namespace). Resource limits and cgroups (``caps.py``)
bound its processes, memory, CPU time and files as a whole.

Without bubblewrap (macOS, Windows, or a Linux that forbids user namespaces)
the kernel still gets a private directory, a scrubbed environment, the
limits the platform has and the supervisor's watchdog, but can see the
filesystem: ``isolation()`` says which one is in use and ``missing_caps()``
the sentence the grader prints about what is lacking.

This module only builds the command and the environment; ``kernel.py`` starts
the kernel with them, through a jupyter_client kernel provisioner.
"""

import functools
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

from .. import _env
from . import caps, kernel_boot

SOCKETS = "sock"  # the kernel's socket folder, in its directory
CONNECTION_FILE = "kernel.json"
# the files of the kernel's directory that the grader writes (kernel.py): the connection file, what it runs at boot
HOST_FILES = (CONNECTION_FILE, kernel_boot.BOOT_FILE, kernel_boot.CHECKS_FILE)
MiB = 2**20

# the namespaces and identity of every sandbox (and of the probe that checks bubblewrap can make one)
_BOX = ["--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
_BOX += ["--uid", "65534", "--gid", "65534"]

_SUPERVISE = "import sys; sys.path.append({where!r}); import supervisor; supervisor.main({plan!r})"


@functools.cache
def _bubblewrap():
    """``(path, extra flags)`` of a bubblewrap that can make our sandbox here, or None."""
    bwrap = shutil.which("bwrap")
    if not bwrap or not caps.LINUX:
        return None
    for extra in (["--disable-userns"], []):  # --disable-userns needs bubblewrap 0.8 (seccomp covers older ones)
        probe = [bwrap, *_BOX, *extra, "--ro-bind", "/", "/", "--size", str(MiB), "--tmpfs", "/tmp"]
        probe += ["--remount-ro", "/", "true"]
        try:
            if subprocess.run(probe, capture_output=True, timeout=10).returncode == 0:
                return bwrap, extra
        except (OSError, subprocess.SubprocessError):
            pass
    return None


def isolation():
    """How the kernel is isolated here: ``"bwrap"`` when bubblewrap can start a sandbox, else ``"limits"``.

    With ``"limits"`` the kernel gets its private directory, a scrubbed
    environment, the limits and the watchdog, but sees the filesystem.
    """
    return "bwrap" if _bubblewrap() else "limits"


def missing_caps():
    """One sentence saying which isolation or caps this machine cannot give the kernel, or None if none.

    The grader prints it once per run (``nnbasics grade``, ``grade-class``).
    """
    return caps.missing(isolation())


def socket_dir(kernel_dir):
    """The folder of the kernel's Unix sockets (on the host, a link into the sandbox with bubblewrap)."""
    return os.path.join(kernel_dir, SOCKETS)


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


def _rlimits(memory_mb, cpu_seconds):
    """The per-process limits this platform enforces (none on Windows; macOS ignores AS and DATA)."""
    if not caps.rlimits_available():
        return {}
    limits = {"RLIMIT_CPU": int(cpu_seconds), "RLIMIT_FSIZE": caps.FILE_MB * MiB, "RLIMIT_CORE": 0}
    if caps.LINUX:
        # DATA counts the heap and anonymous memory (NumPy arrays): one big allocation fails as a MemoryError
        # in the cell. AS also counts the ~0.7 GiB of mapped libraries an idle kernel holds.
        limits["RLIMIT_DATA"] = memory_mb * MiB
        limits["RLIMIT_AS"] = (memory_mb + 2048) * MiB
        euid = getattr(os, "geteuid", lambda: 0)()
        if euid != 0 and "pids" not in caps.cgroup_bases():  # NPROC never applies to root
            limits["RLIMIT_NPROC"] = 512
    return limits


def _plan(kernel_dir, memory_mb, cpu_seconds, boxed, cgroups):
    """What the supervisor enforces (see ``supervisor.py``): a dict of plain values, passed as a literal."""
    rlimits = _rlimits(memory_mb, cpu_seconds)
    capped = {group["cap"] for group in cgroups}
    watch = {
        "pids": None if "processes" in capped else caps.PIDS_MAX,
        "memory": None if "memory" in capped else memory_mb * MiB,
        "cpu": None if "RLIMIT_CPU" in rlimits else int(cpu_seconds),
        "disk": None if boxed else caps.WORKDIR_MB * MiB,  # in the sandbox, a size-capped tmpfs does it
    }
    paths = []
    if any(watch.values()):
        import psutil

        paths.append(os.path.dirname(os.path.dirname(psutil.__file__)))
    return {
        "bwrap": boxed,
        "kernel_dir": kernel_dir,
        "cause": os.path.join(kernel_dir, caps.CAUSE_FILE),
        "sockets": socket_dir(kernel_dir),
        "seccomp": caps.seccomp_program() if boxed else None,
        "rlimits": rlimits,
        "cgroups": list(cgroups),
        "watch": watch,
        "tmpfs": ["/tmp", "/dev/shm", kernel_dir] if boxed else [],
        "why": {
            "processes": caps.processes_hit(),
            "memory": caps.memory_hit(memory_mb),
            "cpu": caps.cpu_hit(int(cpu_seconds)),
            "disk": caps.disk_hit(),
        },
        "paths": paths,
    }


def boxed_command(kernel_argv, kernel_dir, memory_mb, cpu_seconds, how=None, cgroups=()):
    """The argv that runs ``kernel_argv`` (ipykernel) boxed and capped, under the supervisor.

    Parameters
    ----------
    kernel_argv : list of str
        The kernel's own command, e.g. ``[python, "-m", "ipykernel_launcher", "-f", connection_file]``.
    kernel_dir : str
        The kernel's private directory: its working directory, and (on the host)
        its connection file and socket folder.
    memory_mb : int
        The memory cap, MiB.
    cpu_seconds : int
        The CPU-time cap, seconds (a little above the notebook's time limit).
    how : {"bwrap", "limits"}, optional
        Defaults to ``isolation()``.
    cgroups : list of dict, optional
        The kernel's cgroups, from ``caps.make_cgroups``; without them the
        supervisor's watchdog caps processes and memory.

    Returns
    -------
    list of str
        ``[python, -I, -S, -c, supervisor, bwrap, ..., "--", *kernel_argv, ...]``
        (without bubblewrap: ``[..., supervisor, *kernel_argv]``).
    """
    boxed = (how or isolation()) == "bwrap"
    plan = _plan(kernel_dir, memory_mb, cpu_seconds, boxed, cgroups)
    where = os.path.dirname(os.path.abspath(__file__))
    supervisor = [sys.executable, "-I", "-S", "-c", _SUPERVISE.format(where=where, plan=plan)]
    if not boxed:
        return [*supervisor, *kernel_argv]
    bwrap, extra = _bubblewrap()
    box = [bwrap, *_BOX, *extra, "--proc", "/proc", "--dev", "/dev"]
    box += [
        "--size",
        str(caps.TMP_MB * MiB),
        "--tmpfs",
        "/tmp",
        "--size",
        str(caps.SHM_MB * MiB),
        "--tmpfs",
        "/dev/shm",
    ]
    for system in ("/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/alternatives", "/etc/fonts"):
        if os.path.exists(system):
            box += ["--ro-bind", system, system]
    roots = _visible_roots()
    for root in roots:
        box += ["--ro-bind", str(root), str(root)]
    for hidden in _hidden_paths():
        if any(root in hidden.parents for root in roots):
            box += ["--tmpfs", str(hidden), "--remount-ro", str(hidden)]
    # the working directory is a tmpfs of its own: only the connection file and the boot files come from the host
    box += ["--size", str(caps.WORKDIR_MB * MiB), "--tmpfs", kernel_dir, "--dir", socket_dir(kernel_dir)]
    for name in HOST_FILES:
        path = os.path.join(kernel_dir, name)
        box += ["--ro-bind-try", path, path]
    box += ["--chdir", kernel_dir]
    box += ["--remount-ro", "/dev", "--remount-ro", "/"]  # nothing else writable: no uncapped tmpfs
    # In its PID namespace the kernel's parent is bwrap's init (pid 1), which ipykernel would read as
    # "parent died": turn its parent polling off; --die-with-parent ties it to the grader instead.
    return [*supervisor, *box, "--", *kernel_argv, "--IPKernelApp.parent_handle=1"]


def _system_path():
    """The platform's own program folders (no user or Linux-specific ones)."""
    if os.name == "nt":
        root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        return [os.path.join(root, "System32"), root]
    return [p for p in os.defpath.split(os.pathsep) if p and p != "."]


def kernel_env(kernel_dir):
    """A scrubbed environment: nothing of the grader's, caches and config inside ``kernel_dir``."""
    env = {
        "HOME": kernel_dir,
        "PATH": os.pathsep.join([_env.scripts_dir(), *_system_path()]),
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
        **dict.fromkeys(_env.BLAS_THREADS, "1"),
    }
    if os.name == "nt":  # Python itself needs SYSTEMROOT on Windows (its random seed); TEMP is its TMPDIR
        env.update(SYSTEMROOT=_system_path()[1], TEMP=kernel_dir, TMP=kernel_dir, USERPROFILE=kernel_dir)
    return env
