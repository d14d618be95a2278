"""Caps on the learner's kernel as a whole (processes, memory, files), and which of them this machine enforces.

Per-process rlimits do not bound a kernel that forks or maps shared memory,
and ``RLIMIT_NPROC`` does not apply to root. So each kernel gets, where the
machine allows it:

- a **pids cgroup** (``PIDS_MAX`` processes and threads) and a **memory
  cgroup** (the ``--memory`` cap, counted over all of the kernel's processes
  and the tmpfs pages they write), cgroup v1 or v2, made next to the grader's
  own cgroup by ``make_cgroups`` and removed with the kernel by
  ``remove_cgroups``;
- **size-capped tmpfs** for its ``/tmp``, ``/dev/shm`` and working directory
  (``TMP_MB``, ``SHM_MB``, ``WORKDIR_MB``), inside bubblewrap (``sandbox.py``);
- a **seccomp filter** (``seccomp_program``) that denies the kernel keyrings
  (``add_key``, ``keyctl``, ``request_key``, which user namespaces do not
  separate) and new user namespaces, as container runtimes do by default.

Where a cgroup cannot be made (macOS, Windows, a container whose cgroup tree
is read-only), the supervisor (``supervisor.py``) runs a **watchdog** in its
place: it samples the kernel's process tree with psutil and kills the kernel
past the same caps. ``missing`` says in one sentence what a machine lacks.

Everything Linux-specific here (``/proc``, ``/sys/fs/cgroup``, libseccomp) is
only touched on Linux; elsewhere the functions answer "nothing available".
"""

import errno
import functools
import hashlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

PIDS_MAX = 128  # processes and threads of one kernel at once; an idle kernel with NumPy has 13
TMP_MB = 64  # the sandbox's /tmp
SHM_MB = 64  # its /dev/shm
WORKDIR_MB = 128  # its working directory (also HOME and TMPDIR)
FILE_MB = 64  # one file (RLIMIT_FSIZE)
CAUSE_FILE = "limit-hit"  # in the kernel's directory, outside the sandbox: which cap stopped the kernel

LINUX = sys.platform.startswith("linux")


def processes_hit():
    """The sentence for a kernel stopped by the process cap."""
    return f"the notebook started too many processes (more than {PIDS_MAX} processes and threads at once)"


def memory_hit(memory_mb):
    """The sentence for a kernel stopped by the memory cap, ``memory_mb`` MiB over its processes and files."""
    return f"the notebook used more than its {memory_mb} MiB of memory (all its processes and files together)"


def cpu_hit(cpu_seconds):
    """The sentence for a kernel stopped by the CPU-time cap (watchdog only: elsewhere ``RLIMIT_CPU`` does it)."""
    return f"the notebook used more than {cpu_seconds} s of CPU time"


def disk_hit():
    """The sentence for a kernel stopped for writing too much into its folder (watchdog only)."""
    return f"the notebook wrote more than {WORKDIR_MB} MiB of files"


# -- cgroups ---------------------------------------------------------------------------------

# controller -> {version: (limit files, the events file and its counter)}; a counter that grows
# means the cap was hit: a fork refused (pids) or a process killed for memory
_FILES = {
    "pids": {1: ("pids.events", "max"), 2: ("pids.events", "max")},
    "memory": {1: ("memory.oom_control", "oom_kill"), 2: ("memory.events", "oom_kill")},
}
CAP_OF = {"pids": "processes", "memory": "memory"}


def parse_cgroups(own, mounts):
    """``{controller: (version, directory of our cgroup)}`` for pids and memory.

    ``own`` and ``mounts`` are the lines of ``/proc/self/cgroup`` and
    ``/proc/self/mountinfo``; a v2 controller counts only where our cgroup's
    ``cgroup.controllers`` offers it.
    """
    paths = {}  # controller (or "" for v2) -> path of our cgroup within its hierarchy
    for line in own:
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            paths[c.removeprefix("name=")] = path
    found = {}
    for line in mounts:
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        root, mountpoint, fstype = fields[3], fields[4], fields[sep + 1]
        if fstype == "cgroup":  # v1: one hierarchy per mount, its controllers in the super options
            options = fields[sep + 3].split(",")
            wanted = [(c, 1, paths.get(c)) for c in ("pids", "memory") if c in options]
        elif fstype == "cgroup2":
            wanted = [(c, 2, paths.get("")) for c in ("pids", "memory")]
        else:
            continue
        for controller, version, path in wanted:
            if path is None or controller in found:
                continue
            rel = os.path.relpath(path, root)  # our cgroup within the part of the tree this mount shows
            if rel.startswith(".."):
                continue
            where = os.path.normpath(os.path.join(mountpoint, rel))
            if version == 2 and controller not in _read(os.path.join(where, "cgroup.controllers")).split():
                continue  # bound to a v1 hierarchy, or not offered to us
            found[controller] = (version, where)
    return found


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


@functools.cache
def cgroup_bases():
    """``{controller: (version, directory)}``: where this process can make a child cgroup with that controller.

    cgroup v1: our own cgroup of that hierarchy, if writable. cgroup v2: a child
    needs the controller enabled in its parent's ``cgroup.subtree_control``, and a
    cgroup holding processes cannot enable it (the grader's own cannot), so the
    candidates are our cgroup (when it is the root) and its parent when that was
    delegated to us (writable, controller enabled).
    """
    if not LINUX:
        return {}
    try:
        own = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return {}
    return usable_bases(parse_cgroups(own, mounts))


def usable_bases(found):
    """Of ``parse_cgroups``'s answer, the directories where a child cgroup can be made (see ``cgroup_bases``)."""
    bases = {}
    for controller, (version, own) in found.items():
        candidates = [own] if version == 1 else [own, os.path.dirname(own)]
        for where in candidates:
            enabled = version == 1 or controller in _read(os.path.join(where, "cgroup.subtree_control")).split()
            if enabled and os.access(where, os.W_OK):
                bases[controller] = (version, where)
                break
    return bases


def cgroup_name(kernel_dir):
    """The kernel's cgroup name, the same in every process that handles the kernel (launcher or adopter)."""
    return "nnbasics-" + hashlib.sha256(os.path.abspath(kernel_dir).encode()).hexdigest()[:16]


def _limits(controller, version, memory_mb):
    if controller == "pids":
        return [("pids.max", str(PIDS_MAX))]
    cap = str(memory_mb * 2**20)
    if version == 1:  # swap too, where the kernel accounts it (memsw must stay >= the memory limit)
        return [("memory.limit_in_bytes", cap), ("memory.memsw.limit_in_bytes", cap)]
    return [("memory.max", cap), ("memory.swap.max", "0"), ("memory.oom.group", "1")]


def make_cgroups(kernel_dir, memory_mb):
    """Make the kernel's cgroups, with their limits, for each controller this machine lets us use.

    Returns
    -------
    list of dict
        One per cgroup made, for the supervisor (``sandbox.boxed_command(cgroups=...)``):
        ``procs`` (the file a process joins it by), ``events`` and ``key`` (the
        counter that grows when the cap is hit) and ``cap`` ("processes" or "memory").
    """
    made = []
    for controller, (version, base) in cgroup_bases().items():
        where = os.path.join(base, cgroup_name(kernel_dir))
        try:
            os.makedirs(where, exist_ok=True)
            for name, value in _limits(controller, version, memory_mb):
                path = os.path.join(where, name)
                if os.path.exists(path):  # e.g. memsw without swap accounting, memory.oom.group before 4.19
                    with open(path, "w") as f:
                        f.write(value)
        except OSError:
            _remove(where)
            continue
        events, key = _FILES[controller][version]
        made.append(
            {
                "cap": CAP_OF[controller],
                "procs": os.path.join(where, "cgroup.procs"),
                "events": os.path.join(where, events),
                "key": key,
            }
        )
    return made


def _members(where):
    return [int(pid) for pid in _read(os.path.join(where, "cgroup.procs")).split()]


def _kill_members(where):
    for _ in range(50):  # a fork bomb may still be forking (up to the pids cap) while we kill
        pids = _members(where)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.002)


def _remove(where):
    for _ in range(200):  # killed processes leave the cgroup when they have exited, a moment later
        try:
            os.rmdir(where)
            return
        except FileNotFoundError:
            return
        except OSError:
            _kill_members(where)
            time.sleep(0.01)


def kill_cgroups(kernel_dir):
    """Kill every process in the kernel's cgroups (what escaped its process group or its PID namespace)."""
    for _, base in cgroup_bases().values():
        _kill_members(os.path.join(base, cgroup_name(kernel_dir)))


def remove_cgroups(kernel_dir):
    """Kill what is left in the kernel's cgroups and remove them."""
    for _, base in cgroup_bases().values():
        where = os.path.join(base, cgroup_name(kernel_dir))
        if os.path.isdir(where):
            _remove(where)


# -- seccomp ---------------------------------------------------------------------------------

_KEYRING_CALLS = ("add_key", "keyctl", "request_key")
_CLONE_NEWUSER = 0x10000000
_RULES_VERSION = b"1"  # bump when the rules below change: the compiled program is cached


def _compile():
    import pyseccomp as sc

    f = sc.SyscallFilter(sc.ALLOW)
    for call in _KEYRING_CALLS:
        f.add_rule(sc.ERRNO(errno.EPERM), call)
    # no new user namespace (where capabilities come back): unshare and clone with CLONE_NEWUSER, and
    # clone3, whose flags seccomp cannot read, fails as "not implemented" so libc falls back to clone
    newuser = sc.Arg(0, sc.MASKED_EQ, _CLONE_NEWUSER, _CLONE_NEWUSER)
    f.add_rule(sc.ERRNO(errno.EPERM), "unshare", newuser)
    if os.uname().machine in ("x86_64", "aarch64"):  # where clone's flags are its first argument
        f.add_rule(sc.ERRNO(errno.EPERM), "clone", newuser)
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return out.read()


def _cache_path():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.sha256(_RULES_VERSION + os.uname().machine.encode()).hexdigest()[:16]
    return Path(base) / "nnbasics" / f"seccomp-{key}.bpf"


@functools.cache
def seccomp_program():
    """The compiled seccomp filter (classic BPF, for ``bwrap --seccomp FD``), or None without libseccomp.

    Compiled once per machine with pyseccomp (libseccomp) and cached: importing
    pyseccomp looks libseccomp up with ``ldconfig``, about 0.1 s, which must
    not be paid at every kernel start.
    """
    if not LINUX:
        return None
    path = _cache_path()
    try:
        program = path.read_bytes()
        if program and len(program) % 8 == 0:  # whole BPF instructions
            return program
    except OSError:
        pass
    try:
        program = _compile()
    except (ImportError, OSError, RuntimeError):  # pyseccomp raises RuntimeError when libseccomp is missing
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(program)
        os.replace(tmp, path)  # atomic: a concurrent grader reads the whole program or none
    except OSError:
        pass
    return program


# -- what the machine lacks ------------------------------------------------------------------


def rlimits_available():
    """Whether this Python can set rlimits (POSIX ``resource``; Windows has none)."""
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


def missing(how):
    """One sentence naming the caps and isolation this machine cannot give the kernel, or None.

    ``how`` is ``sandbox.isolation()``. What is missing is replaced where it
    can be (a watchdog for the cgroups) and the sentence says so.
    """
    lacks, watched = [], []
    if how != "bwrap":
        lacks.append(
            "a filesystem sandbox (bubblewrap is missing or cannot run here): the notebook can read this "
            "account's files, and only its own folder is size-capped"
        )
    elif seccomp_program() is None:
        lacks.append("a seccomp filter (libseccomp is missing): kernels could pass data through the kernel keyring")
    bases = cgroup_bases()
    watched += [cap for controller, cap in CAP_OF.items() if controller not in bases]
    if watched:
        lacks.append(f"a cgroup for its {' and '.join(watched)} (a watchdog samples them instead)")
    if not lacks:
        return None
    return "the notebook's kernel runs without " + "; and without ".join(lacks)


def limit_hit(kernel_dir):
    """The sentence the supervisor wrote when a cap stopped the kernel in ``kernel_dir``, else None."""
    text = _read(os.path.join(kernel_dir, CAUSE_FILE)).strip()
    return text or None
