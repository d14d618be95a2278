"""Imported by ``mkdocs.yml`` before the plugins load: what makes the site build start and convert faster.

Two measures, neither changing what is built:

1. ``_fast_imports`` (the import-time measures shared with the grader), then
   ``NBCONVERT_DISABLE_CONFIG_EXPORTERS``: nbconvert documents this switch for
   its exporter list. mkdocs-jupyter imports ``NbConvertApp``, whose class body
   lists the exporters for a help text, and without the switch it creates
   every installed exporter (PDF, WebPDF, Qt...) to ask whether it is enabled:
   0.28 s of the import, measured with ``python -X importtime``.
2. ``share_compiled_templates`` (called by the hooks' ``on_config``).

``mkdocs.yml`` refers to ``ENABLED`` with a ``!!python/name`` tag: YAML tags are
resolved when the file is read, before any plugin is imported.
"""

import os

from jinja2 import BytecodeCache

from .. import _fast_imports  # noqa: F401  (first: before nbformat and jsonschema)

os.environ.setdefault("NBCONVERT_DISABLE_CONFIG_EXPORTERS", "1")


class _CompiledTemplates(BytecodeCache):
    """Jinja's bytecode cache, in memory: each template's compiled code, kept with its source's checksum."""

    def __init__(self):
        self._code = {}  # Jinja's key (template name and file) -> (source checksum, code)

    def load_bytecode(self, bucket):
        kept = self._code.get(bucket.key)
        if kept is not None and kept[0] == bucket.checksum:  # an edited template is compiled again
            bucket.code = kept[1]

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = (bucket.checksum, bucket.code)


_shared = _CompiledTemplates()


def share_compiled_templates():
    """Make every nbconvert exporter of this process reuse the Jinja templates that an earlier one compiled.

    mkdocs-jupyter creates two exporters per notebook (the page, and its table
    of contents), each with a new Jinja environment, which lexes, parses and
    compiles nbconvert's templates again: 152 compilations for five notebooks.
    Jinja looks a template's compiled code up in the environment's
    ``bytecode_cache`` (by template and source checksum) before compiling
    it; this gives each new environment the same one. Every environment
    nbconvert makes has the same settings (extensions, no async), which is what
    compiled code depends on; filters and globals are looked up when a
    template runs, so each exporter keeps its own.
    """
    from nbconvert.exporters.templateexporter import TemplateExporter

    create = TemplateExporter._create_environment
    if getattr(create, "shares_compiled_templates", False):
        return

    def _create_environment(self):
        environment = create(self)
        environment.bytecode_cache = _shared
        return environment

    _create_environment.shares_compiled_templates = True
    TemplateExporter._create_environment = _create_environment


ENABLED = True
