"""``ProbeExecute``: nbgrader's ``Execute`` in the sandboxed kernel, under limits; only the guilty cell pays.

A cell that hits a limit costs its own tests, and the rest of the notebook is
graded (as stock nbgrader gives partial credit):

- **per-cell time**: the kernel is interrupted and the notebook goes on;
- **memory**: a ``MemoryError`` in a cell costs that cell's tests;
- **output**: every message the kernel sends counts against the output cap
  (stream, display_data and its updates, execute_result, error, comm_open /
  comm_msg, clear_output, ...), except each probe's first record, which may
  hold up to ``max_record_bytes`` (beyond it the test fails: "the result is
  too large"). A message larger than ``BoundedKernelClient.max_message_bytes``
  is refused by zmq unread, which closes that channel;
- **a dead kernel** (it exited, segfaulted or was killed: by its memory cap,
  or here, for flooding the output, refusing an interrupt or losing a
  channel) is restarted once and the notebook run again from the start
  without the offending cell.

The tests of a cell are the probe's own, if it is a test cell, and those of
the functions it defines (its ``grade_id`` and the names it assigns). They
score 0 with the reason (``GradingState.guilty``); a cell that defines no
graded name costs nothing and is noted on the next test. Only a notebook
whose kernel dies again after the restart, or that runs out of its notebook
time (``GradingState.deadline``, which covers every step, not only this
one), raises ``LimitExceeded``.

Cells that failed (a SyntaxError, an exception, a limit) are recorded by the
names they were meant to define (``GradingState.cell_errors``), so that a
test calling an undefined function can say why it is undefined.

This is the one place that touches nbclient's internals (``_get_timeout``,
``_async_handle_timeout``, ``_async_poll_output_msg``, ``async_execute_cell``
and ``_cleanup_kernel``), written against nbclient >=0.10,<0.12 as pinned in
pyproject.toml; nbclient has no public hook for a notebook-wide deadline, for
counting or dropping messages, or for carrying on after an interrupt. The
client it uses is ours (``BoundedKernelClient``, set as the kernel manager's
``client_factory``), through jupyter_client's and pyzmq's public API, but
for one private method its ready check calls as jupyter_client's own does
(``_handle_kernel_info_reply``, jupyter_client >=8.6,<9).
"""

import asyncio
import math
import os
import re
from queue import Empty
from time import monotonic

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.utils import ensure_async
from nbclient.exceptions import CellExecutionComplete, DeadKernelError
from nbclient.util import run_sync
from nbgrader.preprocessors import Execute
from traitlets import Bool, Enum, Float, Integer
from traitlets.config import Config

from .. import checks
from ..course import defined_names, nbgrader_meta
from ..guard import guarded
from ..kernel import CONTENT_BYTES, MAY_HOLD_SURROGATES, SandboxKernelManager, kill_now, limit_hit, shut_down
from ..limits import GROWTH_BYTES, bounded_text, utf8_tree
from .state import LimitExceeded, out_of_time, state

DIED = "made the kernel die (it exited, crashed or ran out of memory)"
OUTGROWN = f"sent a message in so many parts that the grader would have held more than {GROWTH_BYTES >> 20} MiB of it"
UNREADABLE = "sent a message the grader could not read"
_SYNTAX = ("SyntaxError", "IndentationError", "TabError")
_AT_LINE = re.compile(r"^(?P<msg>.*) \([^()]*, line (?P<line>\d+)\)$", re.S)
_DEFINES = re.compile(r"^(?:(?:async\s+)?def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", re.M)
_PROTOCOL = {"status", "execute_input"}


class BoundedKernelClient(AsyncKernelClient):
    """The grader's client of the learner's kernel: zmq refuses large messages and queues few.

    zmq drops a message larger than its channel allows before reading it (and
    closes that connection: ``lost_channel`` then says so): the iopub channel,
    which carries the test results, takes ``max_message_bytes``, the shell
    channel (the replies) ``max_reply_bytes``, the others (control, stdin,
    heartbeat: nothing the grader reads but tiny replies) ``max_control_bytes``.
    At most ``message_queue`` messages wait on each, the kernel's own queue
    holding the rest. Together they bound what zmq holds in the grader's
    memory, whatever the kernel sends.
    """

    max_message_bytes = Integer(17 << 20, help="largest iopub message accepted from the kernel, bytes").tag(config=True)
    max_reply_bytes = Integer(1 << 20, help="largest shell message accepted from the kernel, bytes").tag(config=True)
    max_control_bytes = Integer(64 << 10, help="largest message on the other channels, bytes").tag(config=True)
    message_queue = Integer(4, help="messages zmq may hold for the grader on each channel").tag(config=True)

    def _context_default(self):  # (traitlets' way to give a trait its default: a context of this client's own)
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, self.max_control_bytes)  # for every socket made without a larger one
        context.setsockopt(zmq.RCVHWM, self.message_queue)
        return context

    def _connect_with(self, connect, max_bytes, **kwargs):
        """A socket made while the context's default message size is ``max_bytes`` (options apply at creation)."""
        self.context.setsockopt(zmq.MAXMSGSIZE, max_bytes)
        try:
            return connect(**kwargs)
        finally:
            self.context.setsockopt(zmq.MAXMSGSIZE, self.max_control_bytes)

    def connect_iopub(self, identity=None):
        return self._connect_with(super().connect_iopub, self.max_message_bytes, identity=identity)

    def connect_shell(self, identity=None):
        return self._connect_with(super().connect_shell, self.max_reply_bytes, identity=identity)

    def start_channels(self, *args, **kwargs):
        super().start_channels(*args, **kwargs)
        self._monitors = []
        for channel, limit in (
            (self.iopub_channel, self.max_message_bytes),
            (self.shell_channel, self.max_reply_bytes),
        ):
            monitor = channel.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            self._monitors.append((monitor, zmq.Socket.shadow(monitor.underlying), limit))  # polled without a loop

    def lost_channel(self):
        """The size limit of the shell or iopub connection zmq closed (a message over it), else 0."""
        lost = 0
        for _, events, limit in getattr(self, "_monitors", []):
            while events.poll(0):
                events.recv_multipart(zmq.NOBLOCK)  # one event: the connection was closed
                lost = lost or limit
        return lost

    async def wait_for_ready(self, timeout=None):
        """Return once the kernel answered ``kernel_info`` and the iopub channel carried that request's "idle".

        jupyter_client's own wait ends with 0.2 s of silence on iopub, to drop
        the status messages of its ``kernel_info`` requests: a fifth of a
        grade. Those messages are known, so they are read until the last one
        ("idle", its parent one of those requests); nbclient ignores any
        other message whose parent is not its own request anyway.
        """
        deadline = monotonic() + (float("inf") if timeout is None else timeout)
        asked = set()
        while True:
            asked.add(self.kernel_info())
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply" and await self._idle_after(asked):
                self._handle_kernel_info_reply(reply)
                return
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _idle_after(self, asked, wait=1.0):
        """Whether iopub says "idle" for one of the ``asked`` requests within ``wait`` s (it is connected)."""
        end = monotonic() + wait
        while (left := end - monotonic()) > 0:
            try:
                msg = await self.iopub_channel.get_msg(timeout=left)
            except Empty:
                return False
            content, parent = msg.get("content") or {}, msg.get("parent_header") or {}
            if (
                msg["msg_type"] == "status"
                and content.get("execution_state") == "idle"
                and parent.get("msg_id") in asked
            ):
                return True
        return False

    def stop_channels(self):
        for monitor, _, _ in getattr(self, "_monitors", []):
            monitor.close(linger=0)
        self._monitors = []
        super().stop_channels()
        self.context.destroy(linger=0)  # its own context: nothing else uses it


class _KernelLost(Exception):
    """The kernel died, or was killed here, while cell ``index`` ran; ``reason`` says what that cell did."""

    def __init__(self, index, reason):
        super().__init__(reason)
        self.index, self.reason = index, reason


def _too_big(limit):
    size = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"
    return f"sent a message larger than the {size} the grader accepts"


def intended_names(source):
    """The top-level names a cell defines, or (if it does not parse) seems meant to define."""
    names = defined_names(source)
    if not names:
        names = {a or b for a, b in _DEFINES.findall(source)}
    return names


def describe(index, cell):
    """A cell as the learner finds it: its number, and its grade_id or first line."""
    gid = nbgrader_meta(cell).get("grade_id")
    if gid:
        return f"cell {index + 1} ({gid})"
    line = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    return f"cell {index + 1} (`{bounded_text(line, 40)}`)"


def _failure(output):
    """What a cell's error output says, as the end of "its cell ...", or None if it is not an error."""
    if output.get("output_type") != "error":
        return None
    ename, evalue = bounded_text(output.get("ename", ""), 80), bounded_text(output.get("evalue", ""), 200)
    if ename in _SYNTAX:
        m = _AT_LINE.match(evalue)
        return f"has a {ename} at line {m['line']}: {m['msg']}" if m else f"has a {ename}: {evalue}"
    return f"raised {ename}" + (f": {evalue}" if evalue else "")


class ProbeExecute(Execute):
    """nbgrader's ``Execute`` under limits: a cell that hits one costs its own tests (see the module docstring)."""

    notebook_timeout = Float(120.0, help="wall-clock limit for the whole notebook, seconds").tag(config=True)
    max_output_bytes = Integer(1 << 20, help="output the kernel may send, bytes (test results aside)").tag(config=True)
    max_record_bytes = Integer(16 << 20, help="largest result of one test, bytes").tag(config=True)
    max_records_bytes = Integer(48 << 20, help="all test results of a notebook, bytes").tag(config=True)
    memory_mb = Integer(2048, help="the kernel's memory cap, for messages").tag(config=True)
    interrupt_grace = Float(3.0, help="seconds an interrupted cell has to stop before the kernel is killed").tag(
        config=True
    )
    # a kernel killed or flooding may never say "idle": that costs its cell, not the notebook
    raise_on_iopub_timeout = Bool(False).tag(config=True)
    # when the cells are done, the kernel has nothing to save: a graceful shutdown would only run the learner's
    # atexit hooks (which may hang) and cost a fifth of a second of waiting for the kernel to exit
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate").tag(config=True)

    def __init__(self, **kwargs):
        # nbgrader's Execute passes AsyncKernelManager as an argument, which would beat any configuration: the
        # kernel this step starts itself (stock `nbgrader autograde`, formgrader's button) is the sandboxed one
        kwargs["kernel_manager_class"] = SandboxKernelManager
        super().__init__(**kwargs)

    def preprocess(self, nb, resources=None, km=None):
        """Execute ``nb``; ``km`` is a kernel manager whose kernel the caller launched (or None: start one).

        A kernel handed in is left to the caller to shut down, as nbclient
        does; the kernel of a restart is started and shut down here.
        """
        resources = resources if resources is not None else {}
        self._graded = state(resources)
        self._probe_cells = {
            i: gid for i, c in enumerate(nb.cells) if (gid := nbgrader_meta(c).get("grade_id")) in self._graded.sealed
        }
        self._skip, self._blamed = set(), set()
        try:
            return self._run(nb, resources, km)
        except _KernelLost as lost:
            self._blame(nb, lost.index, f"{lost.reason}, so the kernel was restarted without it")
        # the second run: from the start, in a new kernel, without the cells that hit a limit
        self._skip = set(self._blamed)
        self._graded.too_large.clear()
        self._graded.buffers.clear()
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        fresh = Config(self.config)
        fresh.SandboxKernelManager.adopt_pid, fresh.SandboxKernelManager.kernel_dir = 0, ""
        restarted = SandboxKernelManager(config=fresh)
        try:
            return self._run(nb, resources, restarted)
        except _KernelLost as again:
            where = describe(again.index, nb.cells[again.index])
            raise LimitExceeded(f"the kernel died again after a restart: {where} {again.reason}") from None
        finally:
            shut_down(restarted)

    def _run(self, nb, resources, km):
        self._output_bytes = self._records_bytes = 0
        self._recorded, self._kill_reason, self._running, self._outgrown = set(), None, None, None
        if km is not None:
            km.client_factory = BoundedKernelClient
        try:
            with guarded(self._outgrow):
                return super().preprocess(nb, resources, km)
        except DeadKernelError:
            if self._running is None:
                raise LimitExceeded("the kernel died before running the notebook") from None
            raise _KernelLost(self._running, self._kill_reason or self._died()) from None
        finally:
            if km is not None and self.km is not None:
                self._cleanup_kernel()  # nbclient leaves the channels of a kernel it did not start open

    def _outgrow(self):
        """(In the guard's thread) The grader outgrew its bound while the kernel ran: kill the kernel at once."""
        self._outgrown = OUTGROWN
        if self.km is not None:
            kill_now(self.km)

    def _stopped(self):
        """ "was stopped by its sandbox: ..." when the kernel's supervisor wrote which cap stopped it, else None."""
        hit = limit_hit(self.km) if self.km is not None else None
        return f"was stopped by its sandbox: {hit}" if hit else None

    def _lost(self, limit):
        """Why zmq closed a channel: a message over its ``limit``, unless a cap of the sandbox stopped the kernel
        (a kernel that dies closes its connections too)."""
        return self._stopped() or _too_big(limit)

    def _died(self):
        """Why the kernel died, as the end of "its cell ...": the guard's or the supervisor's reason when they have one."""
        return self._outgrown or self._stopped() or DIED

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.client_factory = BoundedKernelClient
        return km

    # -- whose fault ------------------------------------------------------------------

    def _tests_of(self, nb, index):
        """The test grade_ids that cell ``index`` costs when it hits a limit."""
        cell, sealed = nb.cells[index], self._graded.sealed
        gid = nbgrader_meta(cell).get("grade_id")
        tests = {gid} if gid in sealed else set()
        for name in intended_names(cell.source) | ({gid} if gid else set()):
            if f"test_{name}" in sealed:
                tests.add(f"test_{name}")
        return tests

    def _blame(self, nb, index, reason):
        """Cell ``index`` hit a limit (``reason`` says how): its tests score 0, and it is left out of a rerun."""
        self._blamed.add(index)
        cell, graded = nb.cells[index], self._graded
        where = describe(index, cell)
        tests = self._tests_of(nb, index)
        for gid in tests:
            own = index in self._probe_cells and self._probe_cells[index] == gid
            graded.guilty.setdefault(gid, f"this test {reason}." if own else f"its cell, {where}, {reason}.")
        if index not in self._probe_cells:
            for name in intended_names(cell.source):
                graded.cell_errors[name] = f"its cell, {where}, {reason}"
        if not tests:  # a cell of the learner's own: nothing to cost, but the learner should know
            following = [gid for i, gid in sorted(self._probe_cells.items()) if i > index]
            if following:
                note = f"{where[0].upper()}{where[1:]} {reason}; it counted for no test."
                graded.notes[following[0]] = " ".join(filter(None, [graded.notes.get(following[0]), note]))

    def _kill(self, reason):
        """Kill the kernel (it keeps sending, or will not stop); the running cell is blamed for ``reason``."""
        if self._kill_reason is None:
            self._kill_reason = reason
            # through the provisioner: a shutdown here would race the cleanup's own shutdown
            self._killing = asyncio.ensure_future(self.km.provisioner.kill())

    async def _lose(self, index, reason):
        """Kill the kernel now and give up this run: cell ``index`` is blamed for ``reason``."""
        self._kill(reason)
        await self._killing
        raise _KernelLost(index, self._kill_reason)

    # -- time -----------------------------------------------------------------------------

    def _get_timeout(self, cell):
        per_cell = super()._get_timeout(cell) or math.inf
        self._graded.start_clock(self.notebook_timeout)
        remaining = self._graded.deadline - monotonic()
        self._bound_by = "notebook" if remaining < per_cell else "cell"
        return max(0.5, min(per_cell, remaining))

    async def _interrupt(self):
        if os.name == "posix":
            # as an interrupt_request on the control channel: the sandboxed kernel runs in a session of its
            # own (bubblewrap's --new-session), which a SIGINT to the launcher's process group does not reach
            self.kc.control_channel.send(self.kc.session.msg("interrupt_request", content={}))
        else:
            await ensure_async(self.km.interrupt_kernel())

    async def _async_handle_timeout(self, timeout, cell=None):
        index = self._running
        if cell is None or index is None:
            raise LimitExceeded("the kernel did not answer")
        if self._bound_by == "notebook":
            raise LimitExceeded(out_of_time(self._graded.time_limit, f"{describe(index, cell)} was running"))
        if lost := self.kc.lost_channel():
            await self._lose(index, self._lost(lost))
        limit = f"timed out after {self.timeout:g} s (the per-cell time limit)"
        await self._interrupt()
        end = monotonic() + self.interrupt_grace
        while (left := end - monotonic()) > 0:
            try:
                reply = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
            except Empty:
                break
            if reply.get("msg_type") == "execute_reply":
                self._blame(self.nb, index, f"{limit} and was interrupted")
                return reply  # nbclient takes it as the cell's reply and goes on
        await self._lose(index, f"{limit} and did not stop when interrupted")

    # -- cells ------------------------------------------------------------------------------

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell_index in self._skip:
            return cell  # it hit a limit in the first run: left out of the second
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)  # skipped
        self._running = cell_index
        if self._graded.deadline is not None and monotonic() > self._graded.deadline:
            doing = f"{describe(cell_index, cell)} was about to run"
            raise LimitExceeded(out_of_time(self._graded.time_limit, doing))
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            raise _KernelLost(cell_index, self._kill_reason or self._died()) from None
        if self._kill_reason is None and (lost := self.kc.lost_channel()):
            self._kill(self._lost(lost))
        if self._kill_reason is not None:
            await self._lose(cell_index, self._kill_reason)
        self._after(cell, cell_index)
        return cell

    execute_cell = run_sync(async_execute_cell)  # nbclient binds its own coroutine here; use ours

    def _after(self, cell, index):
        """Note what a cell that ran left behind: a MemoryError costs its tests, an error explains its names."""
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if any(str(o.get("ename", "")).endswith("MemoryError") for o in errors):
            self._blame(self.nb, index, f"ran out of memory (the kernel's cap is {self.memory_mb} MiB)")
        elif errors and index not in self._probe_cells and index not in self._blamed:
            why = _failure(errors[0])
            for name in intended_names(cell.source) | {nbgrader_meta(cell).get("grade_id")} - {None}:
                self._graded.cell_errors[name] = f"its cell, {describe(index, cell)}, {why}"

    # -- messages -----------------------------------------------------------------------------

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            except (ValueError, TypeError, KeyError, RecursionError):  # not a message the grader can read
                self._kill(UNREADABLE)
                continue
            if not self._take(msg, cell, cell_index) or msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)  # raises CellExecutionComplete when the cell is done
            except CellExecutionComplete:
                return
            except Exception:  # a message of the right type but a forged shape (no "name", no "data"...)
                self._kill(UNREADABLE)

    def _take(self, msg, cell, index):
        """Count a message from the kernel against the limits; False to drop it."""
        if self._kill_reason is not None or self._outgrown:
            return False  # the kernel is being killed: nothing more is taken from it
        content = msg.get("content")
        msg_type = msg.get("msg_type")
        if not isinstance(content, dict) or not isinstance(msg.get("parent_header"), dict):
            self._kill(UNREADABLE)
            return False
        size = msg[CONTENT_BYTES] + sum(len(b) for b in msg.get("buffers") or []) + 64  # 64: the envelope
        if msg_type in _PROTOCOL and (
            content.get("code") == cell.source if msg_type == "execute_input" else size < 200
        ):
            return True  # the kernel's busy/idle, and the echo of the code it was sent: protocol, not output
        gid, data = self._probe_cells.get(index), content.get("data")
        if gid is not None and index not in self._recorded and isinstance(data, dict) and checks.MIME in data:
            self._recorded.add(index)  # each probe's first record is its result, and is not output
            if size > self.max_record_bytes or self._records_bytes + size > self.max_records_bytes:
                self._graded.too_large[gid] = size
                return False
            self._records_bytes += size
            self._graded.buffers[gid] = [bytes(b) for b in msg.get("buffers") or []]
        else:
            self._output_bytes += size
            if self._output_bytes > self.max_output_bytes:
                self._kill(f"printed more than {self.max_output_bytes // 1024} KiB of output")
                return False
        if msg[MAY_HOLD_SURROGATES]:  # a lone surrogate: the gradebook and the feedback need valid UTF-8
            msg["content"] = utf8_tree(content)
        return True
