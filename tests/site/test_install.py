"""A learner with only the site installs the grader from it: the wheel it serves, into a new venv, then grades.

The site is the session's strict build, served on 127.0.0.1; pip fetches the
wheel from it and the dependencies from the machine's configured package
index, as for any ``pip install``. One venv for the session (~1 min to fill).
The wheel itself is built by ``nnbasics.site.wheel``, once per build process.
"""

import html
import importlib.metadata
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import hatchling.builders.wheel
import pytest
from testkit import notebooks

from nnbasics.assignments import site_url as public_url
from nnbasics.site import wheel as site_wheel

ROOT = Path(__file__).resolve().parents[2]
WHEEL = f"nnbasics-{importlib.metadata.version('nnbasics')}-py3-none-any.whl"


def test_wheel_is_built_once_and_again_only_when_a_source_changes(tmp_path, monkeypatch):
    """What ``mkdocs serve`` rebuilds do: the same bytes without building, a new wheel after an edit."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "mkdocs.yml"):
        shutil.copy2(ROOT / name, project / name)
    for folder in ("src", "solutions"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    builds = []
    real = hatchling.builders.wheel.WheelBuilder

    class Counting(real):
        def build(self, *args, **kwargs):
            builds.append(1)
            return super().build(*args, **kwargs)

    monkeypatch.setattr(hatchling.builders.wheel, "WheelBuilder", Counting)
    name, first = site_wheel.build(project)
    assert name == WHEEL and zipfile.ZipFile(io.BytesIO(first)).testzip() is None
    assert site_wheel.build(project) == (name, first) and len(builds) == 1
    core = project / "src" / "nnbasics" / "neuron.py"
    core.write_text(core.read_text() + "\n# edited\n")
    name2, second = site_wheel.build(project)
    assert len(builds) == 2 and name2 == name and second != first


def test_wheel_outside_a_checkout_is_one_sentence(tmp_path):
    with pytest.raises(site_wheel.WheelError, match=r"^no pyproject.toml in .*: the site is built from a checkout"):
        site_wheel.build(tmp_path)


def _bin(venv, name):
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def _text(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_site_serves_the_wheel_and_says_how_to_install_it(built_site):
    wheel = built_site / "downloads" / WHEEL
    assert wheel.is_file(), sorted(p.name for p in (built_site / "downloads").iterdir())
    names = zipfile.ZipFile(wheel).namelist()
    assert "nnbasics/cli.py" in names and "nnbasics/course/mkdocs.yml" in names
    assert "nnbasics/course/solutions/01_neuron/01_neuron.ipynb" in names
    text = _text(built_site / "exercises" / "index.html")
    url = f"{public_url()}downloads/{WHEEL}"
    assert f"pip install {url}" in text  # Linux, macOS, Windows
    assert f"!pip install {url}" in text  # Colab
    assert f'href="../downloads/{WHEEL}"' in (built_site / "exercises" / "index.html").read_text(encoding="utf-8")
    # no page tells anyone to install a package no index has ("pip install nnbasics" alone)
    bare = re.compile(r"pip install\s+[\"']?nnbasics(\[[\w,]+\])?[\"']?(?!\s*@)(\s|$)")
    offenders = [p.relative_to(built_site) for p in built_site.rglob("*.html") if bare.search(_text(p))]
    assert not offenders


@pytest.fixture(scope="session")
def learner_venv(tmp_path_factory, site_url):
    """A new venv with the wheel pip-installed from the served site's URL."""
    venv = tmp_path_factory.mktemp("learner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    result = subprocess.run(
        [
            str(_bin(venv, "python")),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            site_url + f"downloads/{WHEEL}",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return venv


@pytest.mark.slow
def test_installed_grader_grades_a_solved_and_a_released_notebook(learner_venv, tmp_path):
    where = subprocess.run(
        [str(_bin(learner_venv, "python")), "-c", "import nnbasics; print(nnbasics.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(learner_venv), where  # the installed wheel, not the checkout
    notebooks.write(notebooks.solved("01_neuron"), tmp_path / "solved.ipynb")
    notebooks.write(notebooks.released("01_neuron"), tmp_path / "01_neuron.ipynb")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(_bin(learner_venv, "")), env.get("PATH", "")])
    result = subprocess.run(
        [str(_bin(learner_venv, "nnbasics")), "grade", "--json", "solved.ipynb", "01_neuron.ipynb"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    by_name = {Path(nb["path"]).name: nb for nb in json.loads(result.stdout)["notebooks"]}
    solved, released = by_name["solved.ipynb"], by_name["01_neuron.ipynb"]
    assert solved["status"] == "graded" and solved["assignment"] == "01_neuron"
    assert solved["max_score"] > 0 and solved["score"] == solved["max_score"]
    assert released["status"] == "graded" and released["score"] == 0 and released["max_score"] == solved["max_score"]
