"""The grader where bubblewrap, cgroups, ``resource`` and ``os.getuid`` do not exist (macOS, Windows), on Linux.

The grader runs as it would there:

- no bubblewrap on PATH (the sandbox is unavailable);
- no cgroups: a mount namespace with an empty tmpfs over ``/sys/fs/cgroup``,
  as in a container without them (needs root, as CI has);
- a ``sitecustomize`` (on PYTHONPATH) that shows nnbasics's own modules an
  ``os`` without ``getuid``, ``killpg``, ``fork`` and the other POSIX-only
  functions, and makes ``resource``, ``fcntl``, ``termios``, ``pwd`` and
  ``grp`` unimportable for them (libraries keep their platform's own
  branches, as they would take others elsewhere).

Then every grading module imports, solved notebooks get full marks and
released ones 0, a looping cell hits the time limit, a cell that allocates
3 GiB in steps is stopped by the memory watchdog (no rlimit is set without
``resource``), a fork bomb by the process watchdog with nothing left
running, the exploits that need no filesystem isolation still score
nothing, and the grader says once, in one sentence, what it lacks.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest
from testkit.attacks import ATTACKS, attacked
from testkit.notebooks import REPO, cell_index, solved, write

from nnbasics.assignments import ASSIGNMENTS

pytestmark = pytest.mark.slow

SITECUSTOMIZE = '''
"""This Python without its POSIX-only parts, as nnbasics's own modules see it (libraries keep theirs)."""
import builtins, os, types

HIDDEN = {"getuid", "geteuid", "getgid", "getegid", "getgroups", "killpg", "getpgid", "setpgid", "setsid", "fork"}
BLOCKED = {"resource", "fcntl", "termios", "pwd", "grp"}


class PortableOs(types.ModuleType):
    def __getattr__(self, name):
        if name in HIDDEN:
            raise AttributeError(f"module 'os' has no attribute {name!r}")
        return getattr(os, name)


portable_os = PortableOs("os")
_import = builtins.__import__


def _guarded(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__") or ""
    if importer.startswith("nnbasics") and not level:
        top = name.partition(".")[0]
        if top in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not on every platform)", name=name)
        if top == "os" and (name == "os" or not fromlist):
            _import(name, globals, locals, fromlist, level)
            return portable_os
    return _import(name, globals, locals, fromlist, level)


builtins.__import__ = _guarded
'''

ALLOCATE = """
import time
held, deadline = [], time.monotonic() + 30
while len(held) < 48 and time.monotonic() < deadline:  # 3 GiB in 64 MiB steps, at most
    held.append(b"x" * (64 * 2**20))  # written, so resident
    time.sleep(0.05)
"""
# a fork bomb whose children become `sleep MARK`, to be found if they outlived the kernel
MARK = "271.75"
FORKS = f"""
import os, time
n, deadline = 0, time.monotonic() + 20
while n < 2000 and time.monotonic() < deadline:
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{MARK}"])
    n += 1
"""
# one message of 100 parts of 16 MiB: without process groups the guard kills the kernel's tree through psutil
MANY_PARTS = """
k = get_ipython().kernel
part = memoryview(bytearray(16 << 20))
k.session.send(k.iopub_socket, "display_data", {"data": {"text/plain": "x"}, "metadata": {}},
               parent=k.get_parent(), buffers=[part] * 100)
"""
LOOP = "import time\ndeadline = time.monotonic() + 60\nwhile time.monotonic() < deadline:\n    pass"


@pytest.fixture(scope="module")
def portable_env(tmp_path_factory, grader_env):
    """The grader's environment with the sitecustomize first on PYTHONPATH and no bubblewrap on PATH."""
    folder = tmp_path_factory.mktemp("portable")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(grader_env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH")) if p)
    env["PATH"] = os.path.dirname(sys.executable)  # the venv's scripts (alembic), and no bwrap
    assert shutil.which("bwrap", path=env["PATH"]) is None
    return env


def without_cgroups(argv):
    """``argv`` in a mount namespace whose /sys/fs/cgroup is an empty tmpfs."""
    script = f'{shutil.which("mount")} -t tmpfs none /sys/fs/cgroup && exec "$@"'
    return [shutil.which("unshare"), "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", *argv]


needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("mount")),
    reason="hiding the cgroups needs root and unshare (CI runs as root)",
)


def grade(env, *args):
    proc = subprocess.run(
        without_cgroups([sys.executable, "-m", "nnbasics.cli", "grade", "--json", *map(str, args)]),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr


def by_name(out):
    return {os.path.basename(nb["path"]): nb for nb in out["notebooks"]}


def test_every_grading_module_imports_and_builds_a_kernel_command(portable_env):
    code = textwrap.dedent(
        """
        import importlib, os, pkgutil, sys
        import nnbasics.grading as grading
        for m in pkgutil.walk_packages(grading.__path__, "nnbasics.grading."):
            importlib.import_module(m.name)
        from nnbasics.grading import caps, sandbox
        assert not hasattr(sandbox.os, "getuid") and not hasattr(caps.os, "killpg")  # as nnbasics sees os
        assert not caps.rlimits_available()  # as nnbasics sees it: no resource module
        assert sandbox.isolation() == "limits"
        cmd = sandbox.boxed_command(["kernel"], "/k", memory_mb=512, cpu_seconds=30)
        assert cmd[-1] == "kernel" and "'rlimits': {}" in cmd[4], cmd
        assert "'memory': 536870912" in cmd[4] and "'cpu': 30" in cmd[4]  # the watchdog caps memory and CPU
        env = sandbox.kernel_env("/k")
        assert env["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)
        print(sandbox.missing_caps())
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=portable_env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "filesystem sandbox" in proc.stdout


@needs_root
def test_solved_notebooks_get_full_marks_and_released_ones_zero(tmp_path, portable_env):
    for a in ASSIGNMENTS:
        write(solved(a), tmp_path / "solved" / f"{a}.ipynb")
    released = [REPO / "exercises" / a / f"{a}.ipynb" for a in ASSIGNMENTS]
    status, out, err = grade(portable_env, *sorted((tmp_path / "solved").iterdir()), *released)
    assert status == 0, err
    for nb in out["notebooks"]:
        assert nb["status"] == "graded", nb
        full = "/solved/" in nb["path"]
        assert nb["score"] == (nb["max_score"] if full else 0) and nb["max_score"] > 0, nb
    # said once, in one sentence: no sandbox, and a watchdog in place of the cgroups
    notes = [line for line in err.splitlines() if "note:" in line]
    assert len(notes) == 1 and "filesystem sandbox" in notes[0] and "watchdog" in notes[0], err


@needs_root
def test_limits_hold_and_exploits_score_nothing_without_the_sandbox(tmp_path, portable_env):
    nb = solved("01_neuron")
    nb.cells.insert(cell_index(nb, "sigmoid") + 1, nbformat.v4.new_code_cell(LOOP))
    write(nb, tmp_path / "loop.ipynb")
    nb = solved("01_neuron")
    nb.cells.insert(cell_index(nb, "sigmoid") + 1, nbformat.v4.new_code_cell(ALLOCATE))
    write(nb, tmp_path / "allocate.ipynb")
    nb = solved("01_neuron")
    nb.cells.insert(cell_index(nb, "sigmoid") + 1, nbformat.v4.new_code_cell(FORKS))
    write(nb, tmp_path / "forks.ipynb")
    nb = solved("01_neuron")
    nb.cells.insert(cell_index(nb, "sigmoid") + 1, nbformat.v4.new_code_cell(MANY_PARTS))
    write(nb, tmp_path / "many_parts.ipynb")
    for name in ("patch_numpy", "fake_output", "always_equal_array", "input_transformer"):
        write(attacked(ATTACKS[name]), tmp_path / f"{name}.ipynb")
    status, out, err = grade(portable_env, "--timeout", "3", "--memory", "512", *sorted(tmp_path.iterdir()))
    assert status in (0, 1), err
    entries = by_name(out)
    assert "time limit" in json.dumps(entries["loop.ipynb"])
    # no rlimit without `resource`: only the watchdog can have stopped the 3 GiB; the kernel is restarted
    # once without that cell and the rest graded
    allocate = entries["allocate.ipynb"]
    assert allocate["status"] == "graded" and "more than its 512 MiB of memory" in json.dumps(allocate), allocate
    # no pids cgroup and root: only the watchdog counts them; it kills the kernel and what it forked (with
    # seven kernels on two cores the 3 s cell limit may come first: then the kernel is killed as well)
    forks = entries["forks.ipynb"]
    notes = " ".join(t["feedback"] or "" for t in forks["tests"])
    assert forks["status"] == "graded" and ("too many processes" in notes or "timed out after 3 s" in notes), notes
    # the grader would hold the whole message: its own memory guard killed the kernel (no process group here)
    many = entries["many_parts.ipynb"]
    assert many["score"] == many["max_score"] and "sent a message in so many parts" in json.dumps(many), many
    assert f"sleep {MARK}" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    for name in ("patch_numpy", "fake_output", "always_equal_array", "input_transformer"):
        tests = {t["grade_id"]: t for t in entries[f"{name}.ipynb"]["tests"]}
        assert tests["test_sigmoid"]["score"] == 0, (name, tests["test_sigmoid"])
