"""``ProbeExecute``: nbgrader's ``Execute`` in the sandboxed kernel, stopping at the first limit hit.

Limits: the notebook's wall-clock time (nbgrader has only a per-cell limit),
the per-cell time, the output the kernel may send (test records aside) and
the kernel's memory (a ``MemoryError`` in a cell). Hitting one raises
``LimitExceeded`` with a sentence saying which.

This is the one place that touches nbclient's internals (``_get_timeout``,
``_async_handle_timeout``, ``output``, ``async_execute_cell`` and
``_cleanup_kernel``), written against nbclient >=0.10,<0.12 as pinned in
pyproject.toml; nbclient has no public hook for a notebook-wide deadline or
for dropping output.
"""

import asyncio
import json
import math
from time import monotonic

from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbgrader.preprocessors import Execute
from traitlets import Float, Integer

from .. import checks
from ..course import nbgrader_meta
from ..kernel import SandboxKernelManager
from .state import LimitExceeded, state


class ProbeExecute(Execute):
    """nbgrader's ``Execute``, stopping at the first limit: notebook time, output size, memory."""

    notebook_timeout = Float(120.0, help="wall-clock limit for the whole notebook, seconds").tag(config=True)
    max_output_bytes = Integer(1 << 20, help="output the kernel may send, bytes (test results aside)").tag(config=True)
    memory_mb = Integer(2048, help="the kernel's memory cap, for messages").tag(config=True)

    def __init__(self, **kwargs):
        # nbgrader's Execute passes AsyncKernelManager as an argument, which would beat any configuration: the
        # kernel this step starts itself (stock `nbgrader autograde`, formgrader's button) is the sandboxed one
        kwargs["kernel_manager_class"] = SandboxKernelManager
        super().__init__(**kwargs)

    def preprocess(self, nb, resources=None, km=None):
        """Execute ``nb``; ``km`` is a kernel manager whose kernel the caller launched (or None: start one).

        A kernel handed in is left to the caller to shut down, as nbclient does.
        """
        self._deadline, self._bound_by = None, "cell"  # the notebook's clock starts with its first cell
        self._output_bytes, self._limit, self._recorded = 0, None, set()
        sealed = state(resources if resources is not None else {}).sealed
        self._probe_cells = {i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") in sealed}
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError:
            raise LimitExceeded(self._limit or "the kernel died (it exited, was killed or ran out of memory)") from None
        finally:
            if km is not None and self.km is not None:
                self._cleanup_kernel()  # nbclient leaves the channels of a kernel it did not start open

    def _get_timeout(self, cell):
        per_cell = super()._get_timeout(cell) or math.inf
        if self._deadline is None:
            self._deadline = monotonic() + self.notebook_timeout
        remaining = self._deadline - monotonic()
        self._bound_by = "notebook" if remaining < per_cell else "cell"
        return max(0.5, min(per_cell, remaining))

    async def _async_handle_timeout(self, timeout, cell=None):
        if self._bound_by == "notebook":
            raise LimitExceeded(f"the notebook took longer than its {self.notebook_timeout:g} s time limit")
        raise LimitExceeded(f"a cell ran longer than the {self.timeout:g} s per-cell time limit")

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._limit:
            raise LimitExceeded(self._limit)
        if any(str(o.get("ename", "")).endswith("MemoryError") for o in cell.get("outputs", [])):
            raise LimitExceeded(f"a cell ran out of memory (the cap is {self.memory_mb} MiB)")
        return cell

    execute_cell = run_sync(async_execute_cell)  # nbclient binds its own coroutine here; use ours

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        # each probe's first record is exempt: test results (e.g. a 256 x 512 init) are not learner output
        is_record = (
            cell_index in self._probe_cells
            and cell_index not in self._recorded
            and checks.MIME in content.get("data", {})
        )
        if is_record:
            self._recorded.add(cell_index)
        else:
            self._output_bytes += len(json.dumps(content, default=str))
            if self._output_bytes > self.max_output_bytes:
                if self._limit is None:
                    self._limit = f"the notebook printed more than {self.max_output_bytes // 1024} KiB of output"
                    # kill through the provisioner: a shutdown here would race the cleanup's own shutdown
                    self._kill = asyncio.ensure_future(self.km.provisioner.kill())
                return None
        return super().output(outs, msg, display_id, cell_index)
