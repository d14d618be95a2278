"""``metadata_schema``: nbgrader's cell-metadata check, its schema checked once, with jsonschema's own verdicts."""

import copy
import subprocess
import sys

import jsonschema
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.preprocessors import CheckCellMetadata
from testkit.notebooks import meta, solved

from nnbasics.grading import metadata_schema

SCHEMA = MetadataValidator().schema  # nbgrader's own, as its validator reads it


@pytest.fixture
def schema_checks(monkeypatch):
    """Counts the checks of a schema against its meta-schema, with no validator kept yet."""
    monkeypatch.setattr(metadata_schema, "_VALIDATORS", {})
    calls = []
    cls = jsonschema.validators.validator_for(SCHEMA)
    real = cls.check_schema.__func__

    def counted(klass, schema, *args, **kwargs):
        calls.append(schema)
        return real(klass, schema, *args, **kwargs)

    monkeypatch.setattr(cls, "check_schema", classmethod(counted))
    return calls


def test_the_pipeline_makes_nbgraders_metadata_check_use_it():
    code = (
        "import nnbasics.grading.pipeline\n"
        "from nbgrader.nbgraderformat import common\n"
        "print(common.jsonschema.validate is nnbasics.grading.metadata_schema.validate)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True", out.stderr


def test_a_notebook_checked_twice_checks_the_schema_once(schema_checks, monkeypatch):
    from nbgrader.nbgraderformat import common

    nb = solved("03_initialization")
    graded = sum("nbgrader" in c.metadata for c in nb.cells)
    monkeypatch.setattr(common, "jsonschema", jsonschema)  # stock nbgrader
    for _ in range(2):  # the sanitize pass and the autograde pass
        CheckCellMetadata()(nb, {})
    assert len(schema_checks) >= 2 * graded  # at least once per nbgrader cell and pass
    schema_checks.clear()
    metadata_schema._VALIDATORS.clear()  # (solved() may have graded through the pipeline meanwhile)
    metadata_schema.check_schema_once()
    assert len(schema_checks) == 1  # checked when installed (so forked workers inherit the validator)
    for _ in range(2):
        CheckCellMetadata()(nb, {})
    assert len(schema_checks) == 1  # and never again


def test_corrupted_metadata_is_still_refused_as_nbgrader_refuses_it():
    metadata_schema.check_schema_once()
    nb = solved("01_neuron")
    cell = next(c for c in nb.cells if meta(c).get("points"))
    cell.metadata["nbgrader"]["points"] = -1
    with pytest.raises(ValidationError, match="nbgrader metadata may be corrupted"):
        CheckCellMetadata()(nb, {})


def test_a_broken_schema_raises_schema_error_every_time_and_is_not_kept(monkeypatch):
    monkeypatch.setattr(metadata_schema, "_VALIDATORS", {})
    broken = {"$schema": SCHEMA["$schema"], "type": "no-such-type"}
    for _ in range(2):
        with pytest.raises(jsonschema.SchemaError):
            metadata_schema.validate({}, broken)
    assert metadata_schema._VALIDATORS == {}


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 40), st.floats(-2, 5), st.text(max_size=40), st.lists(st.integers())
)


@st.composite
def metadata(draw):
    """nbgrader metadata: a valid cell's, with some values replaced and some keys dropped or added."""
    base = {
        "schema_version": 3,
        "grade": True,
        "solution": False,
        "locked": True,
        "task": False,
        "grade_id": "test_sigmoid",
        "points": 2,
        "checksum": "0" * 32,
        "cell_type": "code",
    }
    for key in draw(st.lists(st.sampled_from(sorted(base)), unique=True)):
        if draw(st.booleans()):
            del base[key]
        else:
            base[key] = draw(_values)
    base.update(draw(st.dictionaries(st.sampled_from(["extra", "grade_id ", "points"]), _values, max_size=2)))
    return base


def _outcome(validate, instance):
    try:
        validate(copy.deepcopy(instance), SCHEMA)
    except jsonschema.ValidationError as e:
        return type(e), e.message, list(e.absolute_path), e.validator
    return None


@settings(max_examples=300, deadline=None)
@given(metadata())
def test_same_verdict_and_error_as_jsonschema_validate(instance):
    assert _outcome(metadata_schema.validate, instance) == _outcome(jsonschema.validate, instance)


def test_the_strategy_draws_valid_and_invalid_metadata():
    """The property above compares both verdicts only if the strategy draws both kinds."""
    assert _outcome(jsonschema.validate, find(metadata(), lambda m: _outcome(jsonschema.validate, m) is None)) is None
    assert _outcome(jsonschema.validate, find(metadata(), lambda m: _outcome(jsonschema.validate, m) is not None))
