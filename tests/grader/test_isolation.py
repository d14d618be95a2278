"""No channel between two kernels, of one run or of two: one student's answer cannot reach another's kernel.

Student A hands in a correct 01_neuron plus a cell that leaves its
``sigmoid`` wherever a later or a concurrent kernel might look: the kernel
keyrings (user, session, user-session; the sandbox's uid maps onto the
grader's, and keyrings are not namespaced), ``/dev/shm``, ``/tmp`` and other
guessed paths, an abstract Unix socket, a Unix socket file and a loopback
TCP port (held open for a few seconds, for a kernel running beside it).
Student B hands in a wrong ``sigmoid`` plus a cell that looks in all those
places and, if it finds A's, runs it. B must score 0 on ``test_sigmoid``
whether graded beside A (one run) or after A (two runs), and no key may be
left in the host's keyring. Run as root, as CI and instructors' containers do.
"""

import shutil

import nbformat
import pytest
from testkit.attacks import KEY_CALLS, WRONG, forget_keys, host_keys
from testkit.notebooks import cell_index, solved, write

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed"),
]


NAME = "class-channel"  # (not "nnbasics": the reference-import check would flag the cell)
CALLS = KEY_CALLS  # add_key and keyctl

COMMON = f"""
import ctypes, os, platform, socket, threading, time
NR = {CALLS!r}
libc = ctypes.CDLL(None, use_errno=True)
RINGS = (-4, -3, -5)  # the user, session and user-session keyrings
FOLDERS = ("/tmp", "/dev/shm", "/var/tmp", "/run", "/", os.path.dirname(os.getcwd()), os.getcwd() + "/..")
ABSTRACT, SOCKET_FILE, PORT = b"\\0{NAME}", "/tmp/{NAME}.sock", 47913
"""

WRITER = (
    COMMON
    + f"""
payload = {{payload!r}}.encode()
if NR:
    for ring in RINGS:
        key = libc.syscall(NR[0], b"user", b"{NAME}", payload, len(payload), ring)
        if key > 0:
            libc.syscall(NR[1], 5, key, 0x3F3F3F3F)  # KEYCTL_SETPERM: anyone may find and read it
for folder in FOLDERS:
    with __import__("contextlib").suppress(OSError), open(os.path.join(folder, "{NAME}"), "wb") as f:
        f.write(payload)

def serve(family, address):
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.bind(address)
        s.listen()
        s.settimeout(0.25)
    except OSError:
        return
    end = time.monotonic() + 8  # a kernel graded beside this one has 8 s to come and read
    while time.monotonic() < end:
        try:
            conn, _ = s.accept()
            conn.sendall(payload)
            conn.close()
        except OSError:
            pass

servers = [(socket.AF_UNIX, ABSTRACT), (socket.AF_UNIX, SOCKET_FILE), (socket.AF_INET, ("127.0.0.1", PORT))]
threads = [threading.Thread(target=serve, args=a) for a in servers]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""
)

READER = (
    COMMON
    + f"""
def read_key(key):
    buf = ctypes.create_string_buffer(1 << 16)
    n = libc.syscall(NR[1], 11, key, buf, len(buf))  # KEYCTL_READ
    return buf.raw[:n] if n > 0 else None

def keyring():
    if not NR:
        return None
    for ring in RINGS:
        key = libc.syscall(NR[1], 10, ring, b"user", b"{NAME}", 0)  # KEYCTL_SEARCH
        if key > 0 and read_key(key):
            return read_key(key)
    try:
        for line in open("/proc/keys"):  # or by id: a key anyone may view is listed here
            if "{NAME}" in line and read_key(int(line.split()[0], 16)):
                return read_key(int(line.split()[0], 16))
    except OSError:
        pass

def files():
    for folder in FOLDERS:
        try:
            return open(os.path.join(folder, "{NAME}"), "rb").read()
        except OSError:
            pass

def sockets():
    for family, address in ((socket.AF_UNIX, ABSTRACT), (socket.AF_UNIX, SOCKET_FILE), (socket.AF_INET, ("127.0.0.1", PORT))):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(address)
                return s.recv(1 << 16)
        except OSError:
            pass

found, end = None, time.monotonic() + 8
while not found and time.monotonic() < end:
    for how, look in (("keyring", keyring), ("file", files), ("socket", sockets)):
        found = look()
        if found:
            print("found the answer through the", how, flush=True)
            exec(found.decode())
            break
    else:
        time.sleep(0.25)
"""
)


def with_cell(nb, code):
    nb.cells.insert(cell_index(nb, "sigmoid") + 1, nbformat.v4.new_code_cell(code))
    return nb


def student_a():
    nb = solved("01_neuron")
    return with_cell(nb, WRITER.format(payload=nb.cells[cell_index(nb, "sigmoid")].source))


def student_b():
    return with_cell(solved("01_neuron", {"sigmoid": WRONG}), READER)


@pytest.fixture
def clean_keyring():
    """Remove any channel key afterwards (on a regression the test fails, and leaves nothing behind)."""
    yield
    forget_keys(NAME)


def sigmoid_score(out, name):
    nb = next(n for n in out["notebooks"] if n["path"].endswith(name))
    return {t["grade_id"]: t["score"] for t in nb["tests"]}["test_sigmoid"], nb


@pytest.mark.skipif(CALLS is None, reason="keyring system call numbers known for x86_64 and aarch64 only")
def test_a_kernel_graded_beside_another_cannot_reach_it(tmp_path, grade_json, clean_keyring):
    a = write(student_a(), tmp_path / "a.ipynb")
    b = write(student_b(), tmp_path / "b.ipynb")
    status, out, err = grade_json(a, b)  # one run: the two kernels run side by side
    assert status == 0, err
    score_a, nb_a = sigmoid_score(out, "a.ipynb")
    score_b, nb_b = sigmoid_score(out, "b.ipynb")
    assert nb_a["score"] == nb_a["max_score"] > 0 and score_a > 0
    assert score_b == 0, nb_b
    assert host_keys(NAME) == []


@pytest.mark.skipif(CALLS is None, reason="keyring system call numbers known for x86_64 and aarch64 only")
def test_a_later_run_finds_nothing_an_earlier_one_left(tmp_path, grade_json, clean_keyring):
    a = write(student_a(), tmp_path / "a.ipynb")
    b = write(student_b(), tmp_path / "b.ipynb")
    status, out, err = grade_json(a)
    assert status == 0 and out["score"] == out["max_score"], err
    assert host_keys(NAME) == []  # nothing left in the grader's keyrings after the run
    status, out, err = grade_json(b)
    assert status == 0, err
    assert sigmoid_score(out, "b.ipynb")[0] == 0, out


def test_the_kernel_cannot_use_keyrings_or_make_a_user_namespace(tmp_path):
    """What the seccomp filter denies, seen from inside; forks and threads still work."""
    from nbclient import NotebookClient
    from traitlets.config import Config

    from nnbasics.grading.kernel import SandboxKernelManager

    probe = COMMON + (
        "import errno, subprocess\n"
        "added = libc.syscall(NR[0], b'user', b'x', b'y', 1, -4) if NR else -1\n"
        "print('add_key', added, errno.errorcode.get(ctypes.get_errno()))\n"
        "print('keyctl', libc.syscall(NR[1], 0, -4, 0) if NR else -1, errno.errorcode.get(ctypes.get_errno()))\n"
        # from a one-threaded child: unshare(CLONE_NEWUSER) in the threaded kernel fails with EINVAL anyway
        "import sys\n"
        "one = 'import ctypes, errno; libc = ctypes.CDLL(None, use_errno=True); r = libc.unshare(0x10000000); '\n"
        "one += 'print(\"unshare\", r, errno.errorcode.get(ctypes.get_errno()))'\n"
        "print(subprocess.run([sys.executable, '-c', one], capture_output=True, text=True).stdout)\n"
        "print('fork', subprocess.run(['true']).returncode, threading.Thread(target=print).start())\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(probe)])
    config = Config()
    config.SandboxKernelManager.kernel_dir = str(tmp_path)
    client = NotebookClient(nb, kernel_manager_class=SandboxKernelManager, config=config, timeout=30)
    client.execute()
    seen = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "add_key -1 EPERM" in seen and "keyctl -1 EPERM" in seen, seen
    assert "unshare -1 EPERM" in seen, seen  # no user namespace: capabilities would come back in it
    assert "fork 0" in seen, seen
