"""nbgrader's cell-metadata check with its schema checked once per process, not once per cell.

nbgrader's ``CheckCellMetadata`` (run twice per notebook, see ``pipeline.py``)
validates each nbgrader cell's metadata with ``jsonschema.validate``, which
first checks the *schema* against JSON Schema's meta-schema, on every call.
The schema ships with nbgrader and never changes, yet that check was about a
tenth of the CPU that grading a solved notebook costs the grader's process
(the kernel's time not counted): 0.241 against 0.213 s for 01_neuron, 0.269
against 0.234 s for 04_loss (each notebook graded warm in one process,
medians of 3, ``time.process_time``).

``check_schema_once()`` gives nbgrader's ``nbgraderformat.common`` module a
``jsonschema`` whose ``validate`` checks each distinct schema once and keeps
its validator. What is validated, and what is raised, stays jsonschema's own:
the validator class ``validate`` would pick, and its ``best_match`` error.
"""

import json

import jsonschema

_VALIDATORS = {}  # schema as canonical JSON -> its checked validator


def _validator(schema):
    """The checked validator of ``schema``, built once; a broken schema raises SchemaError and is not kept."""
    key = json.dumps(schema, sort_keys=True)  # nbgrader reads a new copy of its schema for each validator
    validator = _VALIDATORS.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)  # as jsonschema.validate does
        validator = _VALIDATORS[key] = cls(schema)
    return validator


def validate(instance, schema):
    """``jsonschema.validate(instance, schema)``, with the schema checked and its validator built once."""
    error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(instance))
    if error is not None:
        raise error


class _Jsonschema:
    """jsonschema as nbgrader's metadata module sees it: ``validate`` above, every other name jsonschema's."""

    validate = staticmethod(validate)

    def __getattr__(self, name):
        return getattr(jsonschema, name)


def check_schema_once():
    """Make nbgrader's metadata validation use ``validate``, its schema checked now (idempotent).

    Checked here, at the pipeline's import, the validator is inherited by the
    workers ``grade_all`` forks instead of being built again in each.
    """
    from nbgrader.nbgraderformat import MetadataValidator, common

    if common.jsonschema is jsonschema:
        common.jsonschema = _Jsonschema()
    _validator(MetadataValidator().schema)
