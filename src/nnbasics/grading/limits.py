"""What a learner's notebook may use (``Limits``), the grader's own bounds, and the one function that turns them into configuration.

Kept apart from the pipeline so that a kernel can be launched with its limits
before nbgrader (a second of imports) is loaded.

``Limits`` are the learner's (command-line options). The constants below
bound the grader itself, whatever a notebook holds or its kernel sends, so
that the grading process's memory and time stay bounded:

- a notebook is read only if it has at most ``MAX_CELLS`` cells and
  ``MAX_JSON_VALUES`` JSON values (counted on its bytes, before parsing: a
  60 MB file of ``[{},{},...]`` would take 1.5 GB as Python objects), and a
  code cell holds at most ``MAX_CODE_CELL_CHARS`` characters;
- a message from the kernel larger than ``MAX_MESSAGE_BYTES`` (on iopub,
  which carries the results; ``MAX_REPLY_BYTES`` on shell, ``MAX_CONTROL_BYTES``
  on the channels the grader does not read) is refused by zmq unread, and at
  most ``MESSAGE_QUEUE`` messages wait on each channel: so zmq holds at most
  ``zmq_bound()`` for the grader; a message of many parts, which zmq would
  hold whole however large, is stopped by ``guard.py`` once the grader has
  grown by ``GROWTH_BYTES``;
- one test's result (the probe's record) is kept if at most
  ``MAX_RECORD_BYTES``, all of a notebook's at most ``MAX_RECORDS_BYTES``;
  everything else the kernel sends counts against ``Limits.max_output_kb``;
- a message shown to the learner is at most ``MAX_FEEDBACK_CHARS`` long.
"""

import re
from dataclasses import dataclass

from traitlets.config import Config

MAX_CELLS = 5000  # an exercise notebook has about 50; each cell costs about 0.1 ms to read and to sanitize
MAX_JSON_VALUES = 2_000_000  # an exercise notebook has about 3000; each costs up to 40 bytes parsed
MAX_CODE_CELL_CHARS = 1 << 20  # the largest cell of an exercise (its helpers) is about 40 KB
MAX_RECORD_BYTES = 16 << 20  # the largest record of a correct answer (03_initialization's) is 5.5 MiB
MAX_RECORDS_BYTES = 48 << 20  # all of 03_initialization's records: 15.4 MiB
MAX_MESSAGE_BYTES = MAX_RECORD_BYTES + (1 << 20)  # a record and its message's envelope
MAX_REPLY_BYTES = 1 << 20  # an execute_reply is about 1 KB
MAX_CONTROL_BYTES = 64 << 10  # interrupt and heartbeat replies, tens of bytes
MESSAGE_QUEUE = 4
MAX_FEEDBACK_CHARS = 1000


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
    c.ProbeExecute.max_record_bytes = MAX_RECORD_BYTES
    c.ProbeExecute.max_records_bytes = MAX_RECORDS_BYTES
    c.JudgeTests.max_record_bytes = MAX_RECORD_BYTES
    c.BoundedKernelClient.max_message_bytes = MAX_MESSAGE_BYTES
    c.BoundedKernelClient.max_reply_bytes = MAX_REPLY_BYTES
    c.BoundedKernelClient.max_control_bytes = MAX_CONTROL_BYTES
    c.BoundedKernelClient.message_queue = MESSAGE_QUEUE
    c.SandboxKernelManager.kernel_dir = kernel_dir
    c.SandboxKernelManager.memory_mb = int(limits.memory_mb)
    c.SandboxKernelManager.cpu_seconds = int(limits.notebook_timeout) + 5  # a CPU-bound loop dies soon after
    c.OverwriteCells.add_missing_cells = True
    return c


def zmq_bound():
    """The most zmq may hold for the grader: a full queue of the largest messages on each of its five channels."""
    return MESSAGE_QUEUE * (MAX_MESSAGE_BYTES + MAX_REPLY_BYTES + 3 * MAX_CONTROL_BYTES)


# how much the grader's memory may grow while a kernel runs (``guard.py``): a full queue of the largest messages
# (``zmq_bound``), the results kept, and a message being read (its frames and its decoded JSON): 154 MiB
GROWTH_BYTES = zmq_bound() + MAX_RECORDS_BYTES + 2 * MAX_MESSAGE_BYTES


# -- text shown to the learner -------------------------------------------------------

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def may_hold_surrogates(data):
    """Whether JSON bytes may decode to a string with a lone surrogate (they hold a ``\\udXXX`` escape)."""
    return _SURROGATE_ESCAPE.search(data) is not None


def utf8_text(s):
    """``s`` made encodable as UTF-8: a lone surrogate becomes its escape (``\\ud83d``), six characters."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace").decode("utf-8")
    return s


def utf8_tree(tree):
    """A JSON-like tree (dicts, lists, strings) with every string made ``utf8_text``, keys too; iterative."""
    if isinstance(tree, str):
        return utf8_text(tree)
    root = [tree]
    stack = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        value = holder[key]
        if isinstance(value, str):
            holder[key] = utf8_text(value)
        elif isinstance(value, list):
            stack.extend((value, i) for i in range(len(value)))
        elif isinstance(value, dict):
            for k in list(value):
                if isinstance(k, str) and utf8_text(k) is not k:
                    value[utf8_text(k)] = value.pop(k)
            stack.extend((value, k) for k in value)
    return root[0]


def bounded_text(s, limit=MAX_FEEDBACK_CHARS):
    """``s`` as a learner reads it: valid UTF-8, at most ``limit`` characters (cut with "...")."""
    s = utf8_text(s if isinstance(s, str) else str(s))
    return s if len(s) <= limit else s[: limit - 3] + "..."
