"""``ProbeExecute`` on its own, in the real sandboxed kernel: a cell that hits a limit costs only its own tests.

Each notebook here is built from ``(grade_id, source)`` cells: ``f`` is the
solution cell of function ``f``, ``test_f`` its test cell (a ``check`` call,
sealed into a probe as ``SealTests`` does), ``None`` a cell of the learner's
own. ``JudgeTests`` then gives each test its verdict, as in the pipeline.
"""

import json
import secrets
from queue import Empty

import nbformat
import pytest
from jupyter_client.utils import run_sync

from nnbasics.grading import caps, kernel
from nnbasics.grading.limits import Limits, as_config
from nnbasics.grading.steps import JudgeTests, LimitExceeded, ProbeExecute, Sealed, probe_source, record_cases, state
from nnbasics.grading.steps.probe_execute import BoundedKernelClient

GOOD = {
    "f": "def f(x):\n    return 2 * x",
    "test_f": "check(f, args=(1.0,), expect=2.0, msg='twice')",
    "g": "def g(x):\n    return x + 1",
    "test_g": "check(g, args=(1.0,), expect=2.0, msg='plus one')",
}


def notebook(cells, resources):
    sealed = state(resources).sealed
    nb = nbformat.v4.new_notebook()
    for gid, source in cells:
        meta = {}
        if gid and gid.startswith("test_"):
            sealed[gid] = Sealed(cases=record_cases(source), nonce=secrets.token_hex(8), source=source)
            source = probe_source(sealed[gid].cases, sealed[gid].nonce)
            meta = {"nbgrader": {"grade_id": gid, "grade": True, "locked": True, "points": 1.0}}
        elif gid:
            meta = {"nbgrader": {"grade_id": gid, "solution": True, "grade": False, "locked": False}}
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata=meta))
    return nb


def run(cells, limits=None, **config):
    """Execute ``cells`` and judge them; returns (notebook, GradingState)."""
    resources = {}
    nb = notebook(cells, resources)
    c = as_config(limits or Limits())
    for key, value in config.items():  # e.g. BoundedKernelClient__max_message_bytes=...
        section, trait = key.split("__")
        c[section][trait] = value
    km = kernel.SandboxKernelManager(config=c)
    try:
        nb, resources = ProbeExecute(config=c).preprocess(nb, resources, km=km)
    finally:
        kernel.shut_down(km)
    nb, resources = JudgeTests(config=c)(nb, resources)
    return nb, state(resources)


def cells(**replace):
    """f, test_f, g, test_g, with some sources replaced."""
    return [(gid, replace.get(gid, src)) for gid, src in GOOD.items()]


def test_cells_run_in_the_kernel_and_keep_their_outputs():
    nb, graded = run([(None, "x = 20 + 1"), (None, "print(x * 2)"), *cells()])
    assert nb.cells[1].outputs[0]["text"] == "42\n"
    assert graded.verdicts == {"test_f": None, "test_g": None}


def test_a_looping_cell_is_interrupted_and_costs_only_its_own_test():
    # f's cell loops after defining f, g's test hangs when it calls g; nothing else is lost
    hanging = "def g(x):\n    while True:\n        pass"
    nb, graded = run(
        [*cells(f="def f(x):\n    return 2 * x\nwhile True:\n    pass", g=hanging), (None, "y = 1")],
        Limits(cell_timeout=2),
    )
    assert "its cell, cell 1 (f), timed out after 2 s" in graded.verdicts["test_f"]
    assert graded.verdicts["test_g"] == "this test timed out after 2 s (the per-cell time limit) and was interrupted."
    assert nb.cells[-1].execution_count  # the notebook went on after both


def test_a_cell_that_ignores_the_interrupt_is_left_out_of_a_rerun():
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    _, graded = run([*cells(f=f"{GOOD['f']}\n{stubborn}")], Limits(cell_timeout=2))
    assert "did not stop when interrupted, so the kernel was restarted without it" in graded.verdicts["test_f"]
    assert graded.verdicts["test_g"] is None


@pytest.mark.parametrize(
    "killer",
    [
        "import os\nos._exit(3)",
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
        "import ctypes\nctypes.string_at(0)",
    ],
)
def test_a_kernel_that_dies_is_restarted_without_the_cell(killer):
    _, graded = run([(None, "import math"), *cells(f=f"{GOOD['f']}\n{killer}")])
    assert graded.verdicts["test_f"] == (
        "its cell, cell 2 (f), made the kernel die (it exited, crashed or ran out of memory), "
        "so the kernel was restarted without it."
    )
    assert graded.verdicts["test_g"] is None  # the innocent test counts


def test_a_kernel_killed_in_a_test_costs_that_test():
    _, graded = run(cells(g="def g(x):\n    import os\n    os._exit(1)"))
    assert graded.verdicts["test_g"].startswith("this test made the kernel die")
    assert graded.verdicts["test_f"] is None


def test_a_kernel_that_dies_again_is_a_crash_naming_the_cell():
    with pytest.raises(LimitExceeded, match=r"died again after a restart: cell 5 \(`import os`\) made the kernel die"):
        run([*cells(f=f"{GOOD['f']}\nimport os\nos._exit(1)"), (None, "import os\nos._exit(2)")])


def test_a_cell_of_the_learners_own_costs_nothing_but_is_noted():
    _, graded = run([(None, "while True:\n    pass"), *cells()], Limits(cell_timeout=2))
    assert graded.verdicts == {"test_f": None, "test_g": None}
    assert (
        graded.notes["test_f"]
        == "Cell 1 (`while True:`) timed out after 2 s (the per-cell time limit) and was interrupted; it counted for no test."
    )


def test_the_notebook_time_limit_is_a_crash_naming_the_cell():
    slow = [(None, "import time\ntime.sleep(1)")] * 30
    with pytest.raises(LimitExceeded, match=r"its 3 s time limit \(cell \d+ \(`import time`\) was running\)"):
        run(slow, Limits(cell_timeout=5, notebook_timeout=3))


FLOODS = {  # every kind of message counts against the output cap, not only what prints
    "stream": "for i in range(100):\n    print('x' * 1000)",
    "display updates": "from IPython.display import display, update_display\n"
    "display({'text/plain': ''}, raw=True, display_id='d')\n"
    "for i in range(100):\n    update_display({'text/plain': 'x' * 1000}, raw=True, display_id='d')",
    "comms": "from comm import create_comm\nc = create_comm(target_name='flood')\n"
    "for i in range(100):\n    c.send({'state': {'v': 'x' * 1000}})",
    "clear_output": "from IPython.display import clear_output\nfor i in range(2000):\n    clear_output()",
    "errors": "for i in range(100):\n    try:\n        raise ValueError('x' * 1000)\n"
    "    except ValueError:\n        get_ipython().showtraceback()",
    "results": "class R:\n    def _repr_html_(self):\n        return 'x' * 20000\nR()",
}


@pytest.mark.parametrize("flood", FLOODS.values(), ids=FLOODS.keys())
def test_every_kind_of_message_counts_against_the_output_cap(flood):
    _, graded = run(cells(f=f"{GOOD['f']}\n{flood}"), Limits(max_output_kb=8))
    assert "printed more than 8 KiB of output, so the kernel was restarted without it" in graded.verdicts["test_f"]
    assert graded.verdicts["test_g"] is None


# What a cell prints counts as the bytes the kernel sends: each message's content, as its one JSON frame
# (stdout's message adds about 40 bytes of JSON and 64 of envelope to the text). 'é' takes two bytes in UTF-8.
@pytest.mark.parametrize(
    "text, over",
    [("'x' * 7900", False), ("'x' * 8200", True), ("'é' * 3950", False), ("'é' * 4100", True)],
    ids=["7900 B", "8200 B", "3950 é: 7900 B", "4100 é: 8200 B"],
)
def test_the_output_cap_counts_the_bytes_the_kernel_sent(text, over):
    _, graded = run(cells(f=f"{GOOD['f']}\nprint({text}, end='')"), Limits(max_output_kb=8))
    says = graded.verdicts["test_f"]
    assert (says is not None and "printed more than 8 KiB of output" in says) is over, says
    assert graded.verdicts["test_g"] is None


def test_the_client_session_notes_each_messages_content_size_as_received():
    """``SizedSession`` reads the size off the content frame; a ``\\udXXX`` escape there is noted."""
    from jupyter_client.session import Session

    sender, receiver = Session(key=b"k"), kernel.SizedSession(key=b"k")
    for content, surrogate in (({"text": "x" * 5000, "n": 1}, False), ({"text": "é" * 10}, False)):
        frames = sender.serialize(sender.msg("stream", content=content))[1:]  # without the delimiter
        msg = receiver.deserialize(frames)
        assert msg["content"] == content
        # json.dumps as jupyter_client packs it: the bytes on the wire
        assert msg[kernel.CONTENT_BYTES] == len(json.dumps(content, ensure_ascii=False).encode()) == len(frames[4])
        assert msg[kernel.MAY_HOLD_SURROGATES] is surrogate
    frames = sender.serialize(sender.msg("stream", content={"text": "\\ud83d"}))[1:]
    frames[4] = b'{"text": "\\ud83d"}'  # what a kernel that sends a lone surrogate puts on the wire
    frames[0] = sender.sign(frames[1:5])
    msg = receiver.deserialize(frames)
    assert msg["content"] == {"text": "\ud83d"} and msg[kernel.MAY_HOLD_SURROGATES] is True


def test_a_message_larger_than_the_client_accepts_is_refused_unread():
    big = "from IPython.display import display\ndisplay({'text/plain': 'x' * (4 << 20)}, raw=True)"
    _, graded = run(cells(f=f"{GOOD['f']}\n{big}"), BoundedKernelClient__max_message_bytes=1 << 20)
    assert "sent a message larger than the 1 MiB the grader accepts" in graded.verdicts["test_f"]
    assert graded.verdicts["test_g"] is None


def test_a_reply_larger_than_the_client_accepts_is_refused_unread():
    # the shell channel takes 1 MiB: a payload of 2 MiB (IPython's set_next_input) closes it, and the cell pays
    big = "get_ipython().set_next_input('x' * (2 << 20))"
    _, graded = run(cells(f=f"{GOOD['f']}\n{big}"), Limits(cell_timeout=2))
    assert "sent a message larger than the 1 MiB the grader accepts" in graded.verdicts["test_f"]
    assert graded.verdicts["test_g"] is None


def test_a_result_larger_than_a_record_may_be_fails_its_test():
    huge = "def f(x):\n    return 'x' * (3 << 20)"  # checks.py lets 4 MiB through; the grader keeps 2 MiB here
    _, graded = run(cells(f=huge), ProbeExecute__max_record_bytes=2 << 20, JudgeTests__max_record_bytes=2 << 20)
    assert graded.verdicts["test_f"].startswith("the result is too large (3.0 MiB; a test's results may take 2 MiB)")
    assert graded.verdicts["test_g"] is None


def test_failed_cells_explain_why_their_functions_are_undefined():
    _, graded = run(
        [
            ("f", "def f(x)\n    return 2 * x"),
            ("test_f", GOOD["test_f"]),
            ("g", "1 / 0\ndef g(x):\n    return x + 1"),
            ("test_g", GOOD["test_g"]),
            ("h", "big = bytearray(1 << 50)\ndef h(x):\n    return x"),
            ("test_h", "check(h, args=(1,), expect=1)"),
            ("test_k", "check(k, args=(1,), expect=1)"),
        ]
    )
    assert (
        graded.verdicts["test_f"]
        == "f is not defined: its cell, cell 1 (f), has a SyntaxError at line 1: expected ':'."
    )
    assert (
        graded.verdicts["test_g"]
        == "g is not defined: its cell, cell 3 (g), raised ZeroDivisionError: division by zero."
    )
    assert graded.verdicts["test_h"].startswith("its cell, cell 5 (h), ran out of memory")
    assert graded.verdicts["test_k"].startswith(
        "k: raised NameError: name 'k' is not defined"
    )  # no cell meant to define it


def _started_client():
    km = kernel.SandboxKernelManager(config=as_config(Limits()))
    km.client_factory = BoundedKernelClient
    run_sync(km.start_kernel)()
    kc = km.client()
    kc.start_channels()
    return km, kc


def test_the_client_is_ready_with_iopub_connected_and_nothing_of_its_check_left_queued():
    """``wait_for_ready`` returns once iopub carried its kernel_info's "idle": a first cell's output all arrives."""
    km, kc = _started_client()
    try:
        run_sync(kc.wait_for_ready)(timeout=60)
        with pytest.raises(Empty):  # the status messages of the ready check were all read
            run_sync(kc.iopub_channel.get_msg)(timeout=0.5)
        msg_id = kc.execute("print('first')")
        seen = []
        while not seen or seen[-1] != ("status", "idle"):
            msg = run_sync(kc.iopub_channel.get_msg)(timeout=30)
            assert msg["parent_header"].get("msg_id") == msg_id  # only this request's messages
            content = msg["content"]
            seen.append((msg["msg_type"], content.get("execution_state") or content.get("text")))
        assert seen[0] == ("status", "busy") and ("stream", "first\n") in seen
    finally:
        kc.stop_channels()
        kernel.shut_down(km)


def test_the_client_says_when_the_kernel_died_before_it_was_ready():
    km, kc = _started_client()
    try:
        run_sync(km.provisioner.kill)()
        with pytest.raises(RuntimeError, match="died"):
            run_sync(kc.wait_for_ready)(timeout=60)
    finally:
        kc.stop_channels()
        kernel.shut_down(km)


def test_a_channel_closed_by_a_kernel_its_sandbox_stopped_is_blamed_on_that_cap(tmp_path):
    """A killed kernel closes its connections too: the supervisor's cause file, when there is one, says why."""
    step = ProbeExecute(config=as_config(Limits()))
    step.km = kernel.SandboxKernelManager(config=as_config(Limits(), kernel_dir=str(tmp_path)))
    assert step._lost(17 << 20) == "sent a message larger than the 17 MiB the grader accepts"
    (tmp_path / caps.CAUSE_FILE).write_text("the notebook started too many processes (more than 128)\n")
    assert step._lost(17 << 20) == "was stopped by its sandbox: the notebook started too many processes (more than 128)"
