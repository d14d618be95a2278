"""Submissions that attack the grader, for its attack list and its portability and caps tests.

``ATTACKS`` maps a name to a cell added after a wrong ``sigmoid`` in 01_neuron
(``attacked(code)``): code that tries to get ``test_sigmoid``'s points anyway,
or to harm the grading machine. The machine bombs (``FORK_BOMB``,
``MEMORY_TREE``, ``FILL``) are bounded in the cell itself, so that a cap that
regressed fails a test rather than hang CI: the fork bomb stops at 2000
processes, the allocation at 3 GiB, the writes at 2 GiB, each loop at a
``time.monotonic()`` deadline. They print how far they got (what a cap
stopped them at), flushed, so the figures survive a kernel that is killed.
"""

import platform

import nbformat

from testkit.notebooks import REPO, cell_index, solved

FORK_BOMB = """
import os, time
n, deadline = 0, time.monotonic() + 20
try:
    while n < 2000 and time.monotonic() < deadline:
        if os.fork() == 0:
            time.sleep(20)
            os._exit(0)
        n += 1
        if n % 8 == 0:
            print("forked", n, flush=True)
    print("forked", n, "and nothing stopped it", flush=True)
except OSError as e:
    print("refused", n, type(e).__name__, flush=True)
    time.sleep(5)
"""

# forked children and MAP_SHARED pages: neither RLIMIT_DATA nor RLIMIT_AS of one process sees them all
MEMORY_TREE = """
import mmap, os, time
held, maps, deadline = 0, [], time.monotonic() + 20
while held < 3 * 2**30 and time.monotonic() < deadline:
    m = mmap.mmap(-1, 64 * 2**20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    m.write(b"x" * (64 * 2**20))
    maps.append(m)
    held += 64 * 2**20
    if len(maps) % 4 == 0:
        if os.fork() == 0:
            child = bytearray(b"y" * (64 * 2**20))
            time.sleep(20)
            os._exit(0)
        held += 64 * 2**20
    print("held", held >> 20, flush=True)
time.sleep(3)
"""

# 32 MiB files (under RLIMIT_FSIZE) until each folder refuses, at most 2 GiB each
FILL = """
import os
def fill(folder):
    written = 0
    try:
        for i in range(64):
            with open(os.path.join(folder, f"fill{i}"), "wb") as f:
                for _ in range(32):
                    f.write(b"z" * 2**20)
                    f.flush()
                    written += 2**20
    except OSError as e:
        return written >> 20, e.strerror
    return written >> 20, "nothing stopped it"
for folder in ("/tmp", "/dev/shm", os.getcwd()):
    print(folder == os.getcwd() and "workdir" or folder, *fill(folder), sep=":", flush=True)
"""

# add_key and keyctl by machine: the keyring system calls have no wrapper in Python's standard library
KEY_CALLS = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(platform.machine())

KEYRING = f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
NR = {KEY_CALLS!r}
for ring in (-4, -3, -5) if NR else ():  # the user, session and user-session keyrings
    key = libc.syscall(NR[0], b"user", b"left-behind", b"x", 1, ring)
    print("add_key", ring, key, flush=True)
"""


WRONG = "def sigmoid(z):\n    return np.zeros_like(np.asarray(z, dtype=float))\n"
MIME = "application/vnd.nnbasics.probe+json"
MARK = 313.25  # the sleep length that marks the attacks' leftover processes

ATTACKS = {
    # -- patch what the tests use to compare
    "patch_numpy": "import numpy.testing as npt\nnpt.assert_allclose = lambda *a, **k: None\n"
    "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: np.ones(np.shape(a[0]), bool)\n"
    "np.array_equal = lambda *a, **k: True",
    "patch_builtins": "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.len = lambda x: 0",
    "block_exec": "import builtins\nbuiltins.exec = lambda *a, **k: None\nbuiltins.compile = lambda *a, **k: None",
    # -- make the test cells not run, or not fail
    "input_transformer": "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])",
    "custom_exception_handler": "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
    "sys_exit": "import sys\nsys.exit(0)",
    "os_exit": "import os\nos._exit(0)",
    "kill_kernel": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "fork": f"import os, time\nif os.fork() == 0:\n    time.sleep({MARK})\n    os._exit(0)",
    # -- print or display something that looks like a passing result
    "fake_output": 'print(\'{"score": 4.0, "passed": true}\')\nfrom IPython.display import display\n'
    f"display({{'{MIME}': {{'nonce': '0', 'results': []}}}}, raw=True)\n"
    f"get_ipython().events.register('post_run_cell', lambda r: display({{'{MIME}': "
    "{'nonce': '0', 'results': [{'value': {'t': 'float', 'v': (0.5).hex()}, 'modules': [], 'warnings': []}]}}, "
    "raw=True))",
    "always_equal_array": "class Yes(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
    "    __ne__ = lambda self, other: False\n"
    "def sigmoid(z):\n    return np.zeros_like(np.asarray(z, dtype=float)).view(Yes)",
    "atexit": "import atexit\natexit.register(lambda: print('{\"score\": 4.0}'))\n"
    "atexit.register(lambda: open('/tmp/owned', 'w').write('x'))",
    # -- read the answers, or write the grades
    "read_solutions": "import glob, os\nfound = []\n"
    "import site, sys\n"
    f"for pattern in ['../../../solutions/**/*.ipynb', '{REPO}/solutions/**/*.ipynb',"
    " sys.prefix + '/**/01_neuron*.ipynb', *[sp + '/**/01_neuron*.ipynb' for sp in site.getsitepackages()],"
    " os.path.expanduser('~/**/01_neuron*.ipynb'), '/tmp/**/01_neuron*.ipynb']:\n"
    "    found += glob.glob(pattern, recursive=True)\n"
    "for path in found:\n"
    "    src = open(path).read()\n"
    "    if 'def sigmoid' in src:\n"
    "        import json\n"
    "        for cell in json.load(open(path))['cells']:\n"
    "            code = ''.join(cell['source'])\n"
    "            if code.startswith('def sigmoid'):\n"
    "                exec(code.replace('### BEGIN SOLUTION', '').replace('### END SOLUTION', ''))",
    "import_reference": "from nnbasics import sigmoid",
    "write_gradebook": "import glob, os\n"
    f"for path in glob.glob('../../../gradebook.db') + glob.glob('{REPO}/**/gradebook.db', recursive=True) + "
    "glob.glob(os.path.expanduser('~/.cache/nnbasics/*.db')) + glob.glob('/tmp/**/gradebook.db', recursive=True):\n"
    "    try:\n"
    "        open(path, 'wb').write(b'owned')\n"
    "    except OSError:\n"
    "        pass",
    "background_process": "import subprocess\n"
    f"subprocess.Popen(['sleep', '{MARK}'])\n"
    f"subprocess.Popen(['sh', '-c', 'setsid sleep {MARK} > /dev/null 2>&1 &'])",
    "network": "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\nexcept OSError:\n    pass",
    # -- harm the grading machine, as root (each bounded in the cell: a regression fails, never hangs)
    "fork_bomb": FORK_BOMB,
    "memory_tree": MEMORY_TREE,
    "fill_files": FILL,
    "keyring": KEYRING,
}
CAPPED = ("fork_bomb", "memory_tree")  # stopped by a cap for the whole sandbox: the kernel is killed


def attacked(code):
    nb = solved("01_neuron", {"sigmoid": WRONG})
    at = cell_index(nb, "sigmoid") + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(code))
    return nb


def host_keys(name):
    """The lines of /proc/keys naming ``name``: keys this process can see (as root, its keyrings')."""
    with open("/proc/keys") as f:
        return [line for line in f if name in line]


def forget_keys(name):
    """Invalidate the keys named ``name`` that a kernel left (after a regression, so the machine stays clean)."""
    import ctypes

    if KEY_CALLS:
        libc = ctypes.CDLL(None, use_errno=True)
        for line in host_keys(name):
            libc.syscall(KEY_CALLS[1], 21, int(line.split()[0], 16))  # KEYCTL_INVALIDATE
