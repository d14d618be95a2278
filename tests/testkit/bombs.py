"""Cells that attack the grading machine rather than the score, each bounded in the cell itself.

A cap that regressed must fail a test, not hang CI: the fork bomb stops at
2000 processes, the allocation at 3 GiB, the writes at 2 GiB, each loop at a
``time.monotonic()`` deadline. The cells print how far they got (what a cap
stopped them at), flushed, so the figures survive a kernel that is killed.
"""

import platform

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
