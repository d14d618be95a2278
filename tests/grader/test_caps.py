"""Caps that hold for the whole sandbox, as root too: processes, memory over the tree and its tmpfs, file space.

Each bomb runs in the real sandboxed kernel (``SandboxKernelManager``), once
with the mechanism this machine gives (cgroups where the grader may make
them) and once with the psutil watchdog that replaces them elsewhere (the
cgroups made unavailable). Every bomb is also bounded in the cell (2000
processes, 3 GiB, a deadline), so a cap that regressed fails the test
instead of hanging it. The cells print how far they got: what each cap
stopped them at.
"""

import os
import re
import shutil
import subprocess
import sys
import time

import nbformat
import psutil
import pytest
from jupyter_client.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from testkit.attacks import FILL, FORK_BOMB, MEMORY_TREE
from traitlets.config import Config

from nnbasics.grading import caps, kernel, sandbox

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed"),
]


def run_cell(source, memory_mb=2048):
    """Run one cell in a sandboxed kernel; returns (what it printed, whether the kernel died, limit_hit)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    config = Config()
    config.SandboxKernelManager.memory_mb = memory_mb
    km = kernel.SandboxKernelManager(config=config)
    died = False
    try:
        NotebookClient(nb, km=km, timeout=60, allow_errors=True).execute(cleanup_kc=True)
    except DeadKernelError:
        died = True
    try:
        printed = "".join(o.get("text", "") for o in nb.cells[0].outputs)
        return printed, died, kernel.limit_hit(km)
    finally:
        kernel.shut_down(km)


def counts(printed, word):
    return [int(n) for n in re.findall(rf"(?:{word}) (\d+)", printed)]


@pytest.fixture(params=["machine", "watchdog"])
def mechanism(request, monkeypatch):
    """Each cap as this machine enforces it, then with no cgroup at all (the watchdog in their place)."""
    if request.param == "machine" and set(caps.cgroup_bases()) != {"pids", "memory"}:
        pytest.skip("no writable pids and memory cgroups here: the watchdog case covers this machine")
    if request.param == "watchdog":
        monkeypatch.setattr(caps, "cgroup_bases", lambda: {})
    return request.param


def test_a_fork_bomb_as_root_stops_at_the_process_cap(mechanism):
    printed, died, why = run_cell(FORK_BOMB)
    print(mechanism, "fork bomb reached", max(counts(printed, "forked|refused"), default=0), "processes")
    assert died and why == caps.processes_hit(), printed[-300:]
    assert "nothing stopped it" not in printed
    if mechanism == "machine":  # the pids cgroup refuses the fork itself: never more than the cap at once
        assert max(counts(printed, "forked|refused"), default=0) < caps.PIDS_MAX
    assert max(counts(printed, "forked|refused"), default=0) < 2000


def test_forked_children_and_shared_maps_are_counted_together(mechanism):
    printed, died, why = run_cell(MEMORY_TREE, memory_mb=512)
    held = max(counts(printed, "held"), default=0)
    print(mechanism, "memory tree held", held, "MiB under --memory 512")
    assert died and why == caps.memory_hit(512), printed[-300:]
    # one process's RLIMIT_DATA (512 MiB) saw a fraction of it; the whole tree stopped near the cap
    assert held < 1024


def test_tmp_shm_and_the_working_directory_refuse_writes_past_their_size():
    printed, died, why = run_cell(FILL)
    refused = dict((line.split(":")[0], line.split(":")[1:]) for line in printed.splitlines())
    print("tmpfs refused writes at", refused)
    assert not died and why is None
    for folder, cap in (("/tmp", caps.TMP_MB), ("/dev/shm", caps.SHM_MB), ("workdir", caps.WORKDIR_MB)):
        written, reason = refused[folder]
        assert reason == "No space left on device" and cap - 8 <= int(written) <= cap, (folder, written)


def test_the_tmpfs_count_against_the_memory_cap(mechanism):
    # 64 + 64 + 127 MiB of files: over a 200 MiB cap, though no process holds more than the kernel's ~60 MiB
    source = FILL.replace('for folder in ("/tmp", "/dev/shm", os.getcwd())', 'for folder in ("/tmp", "/dev/shm")')
    source += "\nimport time\nprint(*fill(os.getcwd()), flush=True)\ntime.sleep(3)\n"
    printed, died, why = run_cell(source, memory_mb=200)
    assert died and why == caps.memory_hit(200), printed


def test_the_cgroups_are_made_with_the_kernel_and_removed_with_it(tmp_path):
    if not caps.cgroup_bases():
        pytest.skip("no cgroups here")
    config = Config()
    config.SandboxKernelManager.kernel_dir = str(tmp_path)
    groups = [os.path.join(base, caps.cgroup_name(str(tmp_path))) for _, base in caps.cgroup_bases().values()]
    km = kernel.launch_ahead(config)
    try:
        kc = km.client()
        kc.start_channels()
        run_sync(kc.wait_for_ready)(timeout=60)  # the kernel runs: its supervisor has made its child join
        kc.stop_channels()
        for group in groups:  # the supervisor's child (bubblewrap) joined each before it started the kernel
            with open(os.path.join(group, "cgroup.procs")) as f:
                assert f.read().split(), group
    finally:
        kernel.shut_down(km)
    assert not [group for group in groups if os.path.exists(group)]


def test_the_grader_names_what_the_machine_lacks_in_one_sentence(monkeypatch):
    assert sandbox.missing_caps() is None or set(caps.cgroup_bases()) != {"pids", "memory"}
    monkeypatch.setattr(caps, "cgroup_bases", lambda: {})
    sentence = caps.missing("bwrap")
    assert sentence.count(".") == 0 and "processes and memory" in sentence and "watchdog" in sentence
    sentence = caps.missing("limits")
    assert "filesystem sandbox" in sentence and "watchdog" in sentence


LAPTOP_SCOPE = "/user.slice/user-1000.slice/user@1000.service/app.slice/app-term.scope"


def fake_v2(root, enabled_in_parent):
    """A cgroup v2 tree as a laptop has it: the grader in a terminal's scope, its slice delegated to the user."""
    scope = root / LAPTOP_SCOPE.lstrip("/")
    scope.mkdir(parents=True)
    (scope / "cgroup.controllers").write_text("cpu memory pids\n")
    (scope / "cgroup.subtree_control").write_text("")
    (scope.parent / "cgroup.subtree_control").write_text(enabled_in_parent)
    return scope


def test_cgroup_v2_uses_a_delegated_parent_and_writes_v2_limits(tmp_path, monkeypatch):
    """The v2 path, on a tree laid out as cgroupfs lays it out (this machine's memory and pids are v1)."""
    scope = fake_v2(tmp_path, "memory pids\n")
    own = [f"0::{LAPTOP_SCOPE}"]
    mounts = [f"35 24 0:30 / {tmp_path} rw,nosuid,nodev shared:9 - cgroup2 cgroup2 rw,nsdelegate"]
    found = caps.parse_cgroups(own, mounts)
    assert found == {"pids": (2, str(scope)), "memory": (2, str(scope))}
    bases = caps.usable_bases(found)  # the scope holds the grader: children go beside it, in its slice
    assert bases == {"pids": (2, str(scope.parent)), "memory": (2, str(scope.parent))}

    monkeypatch.setattr(caps, "cgroup_bases", lambda: bases)
    child = scope.parent / caps.cgroup_name("/k")
    child.mkdir()
    for name in ("pids.max", "memory.max", "memory.swap.max", "memory.oom.group"):
        (child / name).write_text("max\n")
    made = caps.make_cgroups("/k", 512)
    assert {(g["cap"], os.path.basename(g["events"]), g["key"]) for g in made} == {
        ("processes", "pids.events", "max"),
        ("memory", "memory.events", "oom_kill"),
    }
    limits = {name: (child / name).read_text() for name in ("pids.max", "memory.max", "memory.swap.max")}
    assert limits == {"pids.max": str(caps.PIDS_MAX), "memory.max": str(512 * 2**20), "memory.swap.max": "0"}
    assert (child / "memory.oom.group").read_text() == "1"  # an OOM kills the whole kernel, not one child


def test_cgroup_v2_without_delegation_leaves_it_to_the_watchdog(tmp_path):
    fake_v2(tmp_path, "")  # a slice that does not pass memory and pids down to us
    mounts = [f"35 24 0:30 / {tmp_path} rw - cgroup2 cgroup2 rw"]
    assert caps.usable_bases(caps.parse_cgroups([f"0::{LAPTOP_SCOPE}"], mounts)) == {}
    # and a v1 tree shown from another namespace's root does not count as ours
    v1 = ["8:pids:/elsewhere"]
    mounts = [f"40 24 0:40 /docker/abc {tmp_path} rw - cgroup cgroup rw,pids"]
    assert caps.parse_cgroups(v1, mounts) == {}


def test_a_grader_that_dies_takes_its_kernel_and_cgroups_with_it(tmp_path):
    script = tmp_path / "grader.py"
    script.write_text(
        "import os\n"
        "from jupyter_client.utils import run_sync\n"
        "from nnbasics.grading import caps, kernel\n"
        "from nnbasics.grading.limits import Limits, as_config\n"
        "km = kernel.launch_ahead(as_config(Limits()))\n"
        "kc = km.client()\n"
        "kc.start_channels()\n"
        "run_sync(kc.wait_for_ready)(timeout=60)\n"
        "print(km.provisioner.pid, caps.cgroup_name(km.kernel_dir), flush=True)\n"
        "os._exit(0)  # no shutdown, no cleanup\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    supervisor, name = out.stdout.split()
    groups = [os.path.join(base, name) for _, base in caps.cgroup_bases().values()]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (psutil.pid_exists(int(supervisor)) or any(map(os.path.exists, groups))):
        time.sleep(0.1)
    assert not psutil.pid_exists(int(supervisor)) or psutil.Process(int(supervisor)).status() == psutil.STATUS_ZOMBIE
    assert not [group for group in groups if os.path.exists(group)]
