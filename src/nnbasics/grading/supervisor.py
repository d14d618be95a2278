"""The supervisor: the process between the grader and the learner's kernel, holding the kernel to its caps.

``sandbox.boxed_command`` runs it as ``python -I -S -c "...supervisor.main(PLAN)" COMMAND...``,
COMMAND being bubblewrap's (or, without it, the kernel's own). It starts
COMMAND as its one child, with the plan's rlimits and in the plan's cgroups
(so every process the kernel forks is counted), then watches it:

- a cgroup whose counter grew (a fork refused at the pids cap, a process
  killed at the memory cap): the kernel is killed;
- without cgroups, a watchdog samples the kernel's process tree with psutil
  (processes and threads, memory, CPU time where no rlimit bounds it, the
  size of its folder without bubblewrap) and kills it past the same caps;
- the grader gone: the kernel is killed.

When a cap stopped the kernel, the sentence saying which goes into
``PLAN["cause"]`` (outside the sandbox) before the kernel is killed; the
grader reads it (``kernel.limit_hit``) once it sees the kernel dead, which is
when this process exits, with its child's status.

With bubblewrap it also hands the sandbox its seccomp program on a pipe, and
links the kernel's socket folder (inside the sandbox's size-capped working
directory) into the kernel's directory on the host, through
``/proc/<sandbox>/root``: the grader connects there, and nothing the kernel
writes lands on the host's disk. An interrupt sent to this process is passed
to the kernel, which runs in a session of its own inside the sandbox.

Its start is on the path of every kernel start: it runs with ``-S`` and
imports only the standard library (psutil for the watchdog, from the path
the plan names, after the kernel has started).
"""

import os
import sys
import time

# `signal` is imported where it is used, after the kernel has been started: importing it (with enum and
# functools) takes 10-30 ms, which would otherwise delay every kernel start

POLL = 0.05  # seconds between two looks at the cgroups' counters (two small reads)
SAMPLE = 0.2  # seconds between two watchdog samples of the process tree
DISK_EVERY = 5  # the folder's size is summed at every 5th sample (a directory walk)


def main(plan, argv=None):
    """Start ``argv`` (default: this process's arguments) under ``plan``, watch it, exit with its status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    import _signal  # (the C module: no enum to import)

    if hasattr(_signal, "pthread_sigmask"):  # a launcher may hold signals back while it launches (grade_all does):
        # this process and the kernel must get them, or an interrupt could not stop a cell
        _signal.pthread_sigmask(_signal.SIG_UNBLOCK, {_signal.SIGINT, _signal.SIGTERM})
    fds, info = [], None
    if plan["bwrap"]:
        extra = []
        if plan.get("seccomp"):
            r, w = os.pipe()
            os.write(w, plan["seccomp"])  # a few hundred bytes: the pipe holds them until bwrap reads
            os.close(w)
            fds.append(r)
            extra += ["--seccomp", str(r)]
        info, info_w = os.pipe()
        fds.append(info_w)
        extra += ["--info-fd", str(info_w)]
        argv[1:1] = extra
    elif plan.get("sockets"):
        os.makedirs(plan["sockets"], exist_ok=True)
    child = _Child(argv, plan, fds)
    for fd in fds:
        os.close(fd)
    sandbox = _link_sockets(info, plan.get("sockets")) if info is not None else None
    status = _Watch(plan, child, sandbox).run()
    sys.exit(status)


class _Child:
    """The supervised command: forked here (POSIX, rlimits and cgroups set before exec) or a Popen (Windows)."""

    def __init__(self, argv, plan, fds):
        self.status, self.popen = None, None
        if os.name != "posix":
            import subprocess

            # inherit the handles jupyter_client gave us (interrupt event, parent handle): ipykernel polls them
            self.popen = subprocess.Popen(argv, close_fds=False)
            self.pid = self.popen.pid
            return
        self.pid = os.fork()
        if self.pid == 0:
            try:
                if plan["bwrap"]:
                    os.setpgid(0, 0)  # a group of its own: interrupts reach the kernel through main()'s handler
                for group in plan["cgroups"]:
                    with open(group["procs"], "w") as f:
                        f.write(str(os.getpid()))
                if plan["rlimits"]:
                    import resource

                    for name, value in plan["rlimits"].items():
                        resource.setrlimit(getattr(resource, name), (value, value))
                for fd in fds:
                    os.set_inheritable(fd, True)
                os.execvp(argv[0], argv)
            except BaseException as e:  # the fork must never return into the supervisor's code
                os.write(2, f"nnbasics: the kernel could not be started: {e}\n".encode())
            os._exit(127)

    def poll(self):
        if self.status is None:
            if self.popen is not None:
                self.status = self.popen.poll()
            else:
                pid, raw = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.status = os.waitstatus_to_exitcode(raw)
        return self.status


def _link_sockets(info, link):
    """Read bubblewrap's info (the sandbox's pid), and link ``link`` on the host to the sandbox's own folder."""
    data = b""
    while not data.rstrip().endswith(b"}"):
        chunk = os.read(info, 4096)
        if not chunk:  # bwrap failed before making the sandbox: it says why on stderr
            break
        data += chunk
    os.close(info)
    _, _, tail = data.partition(b'"child-pid":')
    digits = tail.split(b",")[0].split(b"\n")[0].strip()
    if not digits.isdigit():
        return None
    sandbox = int(digits)
    if link:
        tmp = f"{link}.{os.getpid()}"
        try:
            if os.path.isdir(link) and not os.path.islink(link):
                os.rmdir(link)  # an empty socket folder left by a kernel run without bubblewrap
            os.symlink(f"/proc/{sandbox}/root{link}", tmp)
            os.replace(tmp, link)  # atomic, and a restarted kernel's clients reconnect through the new link
        except OSError as e:  # the grader cannot reach the kernel: it says so when the kernel does not answer
            os.write(2, f"nnbasics: the kernel's sockets cannot be linked: {e}\n".encode())
    return sandbox


def _counter(group):
    try:
        with open(group["events"]) as f:
            for line in f:
                name, _, value = line.partition(" ")
                if name == group["key"]:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


class _Watch:
    """The watch loop over one child; ``run()`` returns the exit status to leave with."""

    def __init__(self, plan, child, sandbox):
        self.plan, self.child, self.sandbox = plan, child, sandbox
        self.parent = os.getppid()
        self.cause, self.stop = None, False
        self.baseline = [(group, _counter(group)) for group in plan["cgroups"]]
        self.watchdog = _Watchdog(plan, child, sandbox) if any(plan["watch"].values()) else None
        import signal

        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self._on_stop)
        if hasattr(signal, "SIGINT"):
            signal.signal(signal.SIGINT, self._on_interrupt if plan["bwrap"] else signal.SIG_IGN)

    def _on_stop(self, *_):
        self.stop = True

    def _on_interrupt(self, *_):
        import signal

        # the kernel is pid 2 of the sandbox, the only child of its init (the sandbox's pid, on the host)
        try:
            with open(f"/proc/{self.sandbox}/task/{self.sandbox}/children") as f:
                for pid in f.read().split():
                    os.kill(int(pid), signal.SIGINT)
        except (OSError, TypeError, ValueError):
            pass

    def _cgroup_cause(self):
        for group, start in self.baseline:
            if _counter(group) > start:
                return self.plan["why"][group["cap"]]
        return None

    def _orphaned(self):
        if os.name == "posix":
            return os.getppid() != self.parent
        return self.watchdog is not None and not self.watchdog.alive(self.parent)

    def run(self):
        while True:
            status = self.child.poll()
            if self.cause is None:
                # also once the child has exited: an OOM kill may be what ended it
                self.cause = self._cgroup_cause()
                if self.cause is None and self.watchdog is not None and status is None:
                    self.cause = self.watchdog.check()
                if self.cause is not None:
                    self._write_cause()
                    self._kill()
            if status is not None:
                break
            if self.stop or self._orphaned():
                self._kill()
            time.sleep(POLL)
        if self._orphaned():  # the grader is gone and cannot remove the kernel's cgroups: do it here
            self._remove_cgroups()
        return status if status >= 0 else 128 - status

    def _remove_cgroups(self):
        for group in self.plan["cgroups"]:
            for _ in range(50):  # the sandbox's processes leave the cgroup as they finish dying
                try:
                    os.rmdir(os.path.dirname(group["procs"]))
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)

    def _write_cause(self):
        tmp = f"{self.plan['cause']}.{os.getpid()}"
        try:
            with open(tmp, "w") as f:
                f.write(self.cause)
            os.replace(tmp, self.plan["cause"])
        except OSError:
            pass

    def _kill(self):
        """Kill the kernel and everything it started."""
        if self.watchdog is not None:
            self.watchdog.kill_tree()
        for group in self.plan["cgroups"]:
            try:
                with open(group["procs"]) as f:
                    pids = [int(pid) for pid in f.read().split()]
            except (OSError, ValueError):
                pids = []
            for pid in pids:
                _kill(pid)
        # with bubblewrap, its death takes the sandbox's PID namespace with it (--die-with-parent)
        _kill(self.child.pid)


def _kill(pid):
    import signal

    try:
        os.kill(pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
    except OSError:
        pass


class _Watchdog:
    """Samples the kernel's process tree with psutil where no cgroup caps it; ``check()`` names a cap passed."""

    def __init__(self, plan, child, sandbox):
        sys.path.extend(plan["paths"])
        import psutil

        self.psutil, self.plan, self.watch = psutil, plan, plan["watch"]
        self.sandbox, self.samples, self.last = sandbox, 0, 0.0
        self.seen = {}  # pid -> process, for every process sampled: killed at the end even if reparented
        if sandbox is not None:
            # the sandbox's own /proc: its processes only, however many the host runs (psutil's children()
            # reads every process of the machine). Its pids are the sandbox's: never kill through them.
            psutil.PROCFS_PATH = f"/proc/{sandbox}/root/proc"
            self.host_proc = os.stat("/proc").st_dev  # each PID namespace's /proc is a file system of its own
            self.root = None
        else:
            try:
                self.root = psutil.Process(child.pid)
            except psutil.Error:
                self.root = None

    def alive(self, pid):
        return self.psutil.pid_exists(pid)

    def _tree(self):
        if self.sandbox is not None:
            try:
                if os.stat(self.psutil.PROCFS_PATH).st_dev == self.host_proc:
                    return []  # bubblewrap is still setting the sandbox up: that is the host's /proc
                return list(self.psutil.process_iter())
            except OSError:  # not mounted yet, or the sandbox is gone with the kernel
                return []
        if self.root is None:
            return []
        try:
            tree = [self.root, *self.root.children(recursive=True)]
        except self.psutil.Error:
            return []
        for p in tree:
            self.seen[p.pid] = p
        return tree

    def _memory(self, p):
        if sys.platform.startswith("linux"):
            return p.memory_full_info().pss  # shared pages counted once over the tree
        info = p.memory_info()
        return getattr(info, "private", info.rss)  # Windows: committed private bytes

    def check(self):
        now = time.monotonic()
        if now - self.last < SAMPLE:
            return None
        self.last, self.samples = now, self.samples + 1
        tasks = memory = cpu = 0
        for p in self._tree():
            try:
                with p.oneshot():
                    tasks += p.num_threads()
                    if self.watch["memory"]:
                        memory += self._memory(p)
                    if self.watch["cpu"]:
                        t = p.cpu_times()
                        cpu += t.user + t.system + getattr(t, "children_user", 0) + getattr(t, "children_system", 0)
            except self.psutil.Error:
                continue  # it exited meanwhile
        if self.watch["memory"] and self.sandbox is not None:
            memory += self._tmpfs()
        if self.watch["pids"] and tasks > self.watch["pids"]:
            return self.plan["why"]["processes"]
        if self.watch["memory"] and memory > self.watch["memory"]:
            return self.plan["why"]["memory"]
        if self.watch["cpu"] and cpu > self.watch["cpu"]:
            return self.plan["why"]["cpu"]
        if (
            self.watch["disk"]
            and self.samples % DISK_EVERY == 1
            and _size(self.plan["kernel_dir"]) > self.watch["disk"]
        ):
            return self.plan["why"]["disk"]
        return None

    def _tmpfs(self):
        used = 0
        for path in self.plan["tmpfs"]:
            try:
                st = os.statvfs(f"/proc/{self.sandbox}/root{path}")
                used += (st.f_blocks - st.f_bfree) * st.f_frsize
            except OSError:
                pass
        return used

    def kill_tree(self):
        if self.sandbox is not None:
            return  # the sandbox dies with bubblewrap
        self._tree()
        for p in self.seen.values():
            try:
                p.kill()  # psutil checks the process is still the one it saw (pid reuse)
            except self.psutil.Error:
                pass


def _size(folder):
    """Bytes of the files under ``folder`` (not following links)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            total += getattr(st, "st_blocks", 0) * 512 or st.st_size
    return total
