"""What a learner's notebook may use (``Limits``), and the one function that turns it into configuration.

Kept apart from the pipeline so that a kernel can be launched with its limits
before nbgrader (a second of imports) is loaded.
"""

from dataclasses import dataclass

from traitlets.config import Config


@dataclass(frozen=True)
class Limits:
    """What one notebook's kernel may use.

    ``cell_timeout`` and ``notebook_timeout`` are wall-clock seconds,
    ``memory_mb`` the kernel's memory cap in MiB, ``max_output_kb`` the output
    (text, images, errors) the grader accepts from it in KiB.
    """

    cell_timeout: float = 10.0
    notebook_timeout: float = 120.0
    memory_mb: int = 2048
    max_output_kb: int = 1024


def as_config(limits, kernel_dir=""):
    """The traitlets configuration of the pipeline's steps and of the kernel manager for ``limits``.

    ``kernel_dir`` is the kernel's private directory ("" lets the kernel
    manager make a temporary one).
    """
    c = Config()
    c.ProbeExecute.timeout = max(1, round(limits.cell_timeout))
    c.ProbeExecute.notebook_timeout = float(limits.notebook_timeout)
    c.ProbeExecute.max_output_bytes = int(limits.max_output_kb) * 1024
    c.ProbeExecute.memory_mb = int(limits.memory_mb)
    c.SandboxKernelManager.kernel_dir = kernel_dir
    c.SandboxKernelManager.memory_mb = int(limits.memory_mb)
    c.SandboxKernelManager.cpu_seconds = int(limits.notebook_timeout) + 5  # a CPU-bound loop dies soon after
    c.OverwriteCells.add_missing_cells = True
    return c
