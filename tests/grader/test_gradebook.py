"""The private gradebooks of ``nnbasics grade``: one engine per copy, no fsync, the instructor's left as it is.

The grades themselves (what SaveAutoGrades writes through these engines) are
checked end to end by the full-marks and mutant tests; here, how a copy is
opened.
"""

import shutil

import pytest
from nbgrader.api import Gradebook

from nnbasics.grading import gradebook


@pytest.fixture
def template(grader_env, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", grader_env["XDG_CACHE_HOME"])
    return gradebook.template_gradebook()


def _pragmas(gb):
    with gb.engine.connect() as conn:
        return [conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("synchronous", "journal_mode")]


def _record_a_grade(url, score):
    with Gradebook(url) as gb:
        grade = gb.find_submission_notebook("01_neuron", "01_neuron", gradebook.STUDENT).grades[0]
        grade.auto_score = score
        gb.db.commit()
        return grade.name


def test_every_gradebook_on_a_private_copy_shares_one_engine_without_fsync(template, tmp_path):
    url = gradebook.private_copy(tmp_path)
    name = _record_a_grade(url, 0.5)
    with Gradebook(url) as first, Gradebook(url) as second:
        assert first.engine is second.engine  # one dialect, one statement cache
        assert _pragmas(first) == [0, "memory"]  # synchronous=OFF
        # what one Gradebook committed and closed, the next one reads (a disposed engine connects again)
        grades = {g.name: g for g in second.find_submission_notebook("01_neuron", "01_neuron", "learner").grades}
        assert grades[name].auto_score == 0.5


def test_a_gradebook_that_is_not_a_private_copy_gets_its_own_engine_and_durable_writes(template, tmp_path):
    db = tmp_path / "gradebook.db"  # an instructor's, say
    shutil.copyfile(template, db)
    url = f"sqlite:///{db}"
    with Gradebook(url) as first, Gradebook(url) as second:
        assert first.engine is not second.engine
        assert _pragmas(first) == [2, "delete"]  # SQLite's defaults: FULL, a rollback journal on disk


def test_only_the_latest_copies_keep_an_engine(template, tmp_path):
    urls = []
    for k in range(gradebook._KEEP + 1):  # one notebook after another, each in its own private course
        (tmp_path / str(k)).mkdir()
        urls.append(gradebook.private_copy(tmp_path / str(k)))
        _record_a_grade(urls[-1], 1.0)
    with Gradebook(urls[0]) as first, Gradebook(urls[0]) as again:
        assert first.engine is not again.engine  # the oldest copy's engine was let go
        assert _pragmas(first) == [2, "delete"]
    with Gradebook(urls[-1]) as first, Gradebook(urls[-1]) as again:
        assert first.engine is again.engine
