"""Attacks on the grader: none may raise a score, or touch the grader, the gradebook or other submissions.

Each attack is a submission of 01_neuron whose ``sigmoid`` is wrong (it
returns zeros), plus code that tries to get ``test_sigmoid``'s points
anyway. Stock nbgrader falls for several of these (toolnotes: patched
numpy.testing, input transformers, reading ../../solutions, writing the
gradebook); ``nnbasics grade-class`` must not fall for any.
"""

import csv
import hashlib
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from testkit.bombs import FILL, FORK_BOMB, KEY_CALLS, KEYRING, MEMORY_TREE, forget_keys, host_keys
from testkit.notebooks import REPO, cell_index, solved, write

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


def tree_digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def attacked_class(tmp_path_factory, run, grader_env):
    course = tmp_path_factory.mktemp("attacked course")
    for name, code in ATTACKS.items():
        write(attacked(code), course / "submitted" / name / "01_neuron" / "01_neuron.ipynb")
    write(solved("01_neuron"), course / "submitted" / "honest" / "01_neuron" / "01_neuron.ipynb")
    write(solved("01_neuron", {"sigmoid": WRONG}), course / "submitted" / "wrong" / "01_neuron" / "01_neuron.ipynb")
    guarded = {"solutions": tree_digest(REPO / "solutions"), "submitted": tree_digest(course / "submitted")}
    proc = run("grade-class", course / "submitted", "--jobs", "2", "--out", course / "grades.csv", cwd=course)
    time.sleep(0.5)  # let the kernels' namespaces finish tearing down before looking for leftovers
    return course, proc, guarded


def rows(course):
    with open(course / "grades.csv", newline="") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def sigmoid_scores(course):
    """test_sigmoid's score per student, from the gradebook written by grade-class, via nbgrader's API."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {
            s.id: next(
                g.score
                for g in gb.find_submission_notebook("01_neuron", "01_neuron", s.id).grades
                if g.name == "test_sigmoid"
            )
            for s in gb.students
        }


def test_every_attack_scores_nothing_on_the_attacked_test(attacked_class):
    course, proc, _ = attacked_class
    assert proc.returncode in (0, 1), proc.stderr
    scores = sigmoid_scores(course)
    assert scores["honest"] > 0
    for name in ATTACKS:
        assert scores[name] == 0, name
    table = rows(course)
    honest = float(table["honest"]["score"])
    for name in ATTACKS:  # and no attack gained anything anywhere else either
        assert float(table[name]["score"]) <= honest - scores["honest"], (name, table[name])


def test_crashing_attacks_are_reported_crashed_not_zero(attacked_class):
    table = rows(attacked_class[0])
    for name in ("os_exit", "kill_kernel", *CAPPED):
        assert table[name]["status"] == "crashed", table[name]
    assert table["honest"]["status"] == "graded" and table["wrong"]["status"] == "graded"


def test_the_grader_the_gradebook_and_other_submissions_are_intact(attacked_class, grader_env):
    course, _, guarded = attacked_class
    assert tree_digest(REPO / "solutions") == guarded["solutions"]
    assert tree_digest(course / "submitted") == guarded["submitted"]
    table = rows(course)
    assert float(table["honest"]["score"]) == float(table["honest"]["max_score"]) > 0
    export = subprocess.run(
        ["nbgrader", "export", "--to", "export.csv"], cwd=course, env=grader_env, capture_output=True, text=True
    )
    assert export.returncode == 0, export.stderr
    assert "honest" in (course / "export.csv").read_text()
    assert not Path("/tmp/owned").exists()  # written (if at all) inside the kernel's private /tmp


@pytest.mark.skipif(KEY_CALLS is None, reason="keyring system call numbers known for x86_64 and aarch64 only")
def test_nothing_is_left_in_the_grading_machines_keyrings(attacked_class):
    try:
        assert host_keys("left-behind") == []
    finally:
        forget_keys("left-behind")


def test_no_process_outlives_its_kernel(attacked_class):
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"sleep {MARK}" not in ps


def test_delegating_to_the_reference_is_named_in_the_feedback(tmp_path, grade_json):
    path = write(attacked(ATTACKS["import_reference"]), tmp_path / "lazy.ipynb")
    status, out, _ = grade_json(path)
    assert status == 0
    test = {t["grade_id"]: t for t in out["notebooks"][0]["tests"]}["test_sigmoid"]
    assert test["score"] == 0 and "nnbasics reference implementation" in test["feedback"]
