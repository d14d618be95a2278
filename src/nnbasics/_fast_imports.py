"""Imported first by the site build and by the grader, to cut seconds off their start-up.

Three measures, each leaving behaviour as it is:

1. jsonschema (pulled in by nbformat, which mkdocs-jupyter imports) imports
   the optional ``rfc3987_syntax`` when it is installed, and that compiles
   dozens of grammars at import: 2 to 4 s on this machine, for IRI format
   checks that no notebook validation uses. Marking the module as absent
   makes jsonschema skip those two checks, as it does on machines without
   the package.
2. Modules imported with a plain ``import X`` but used only inside functions
   that grading never calls (``requests`` for nbgrader's JupyterHub login,
   ``yaml`` for its test templates, ``arrow`` and the colour and URI-template
   libraries behind jsonschema's optional format checks)
   are replaced by stand-ins (``_Deferred``) that import the real module on
   first use. The standard library's ``importlib.util.LazyLoader`` cannot do
   this: the import statement itself reads ``__spec__``, which loads it.
3. ``import nbgrader`` imports its four Jupyter server extensions (tornado
   handlers, jupyter_server, the exchange, the apps: about half a second),
   and ``nbgrader.utils`` imports setuptools (a third of a second) for three
   archive helpers; jsonschema takes one function each from
   ``rfc3986_validator``, which compiles its grammar at import, and
   ``rfc3339_validator``, which imports ``six``. The modules those names come from
   are stand-ins too, whose named functions import the real module when
   called.

``defer_markdown`` does the same for the markdown renderer, in ``nnbasics
grade`` only; so does ``pause_collector``, for Python's cycle collector.

The site build imports it through ``nnbasics.site.fast_build`` (which
mkdocs.yml names with a ``!!python/name`` tag, resolved when the file is read,
before plugins are imported); ``nnbasics.grading`` imports this module before
nbgrader. Nothing is done for a module that is already imported.
"""

import gc
import importlib
import importlib.util
import sys
import types
from pathlib import Path

if "jsonschema" not in sys.modules:  # too late to matter otherwise; never undo a real import
    sys.modules.setdefault("rfc3987_syntax", None)

# imported as `import X` at the top of a module, used only inside functions grading does not call
LAZY = ("requests", "arrow", "uri_template", "webcolors", "yaml")

# module -> the functions other modules import from it by name (`from X import f`); plain modules only
_EXTENSIONS = {"assignment_list": "handlers", "course_list": "handlers", "validate_assignment": "handlers"}
DEFERRED = {
    **{
        f"nbgrader.server_extensions.{ext}.{mod}": ("load_jupyter_server_extension",)
        for ext, mod in _EXTENSIONS.items()
    },
    "nbgrader.server_extensions.formgrader.formgrader": ("load_jupyter_server_extension",),
    "setuptools.archive_util": ("unpack_archive", "unpack_tarfile", "unpack_zipfile"),
    "rfc3986_validator": ("validate_rfc3986",),  # compiles its URI grammar at import
    "rfc3339_validator": ("validate_rfc3339",),  # and six: 5 ms, a thirtieth of jsonschema's import
}


class _Deferred(types.ModuleType):
    """Stands in for a module until it is used: then the real module is imported, and used from then on.

    ``functions`` are names other modules import with ``from X import f``:
    they are forwarders that import the real module when called. Any other
    attribute imports it at once. The import system's own look-ups find
    nothing to trigger on (``__spec__`` is None), except ``__path__`` (a
    submodule import, or ``from package import name``), which imports a real
    package and is absent from a stand-in for a plain module.
    """

    def __init__(self, name, functions=()):
        super().__init__(name)
        self._functions = tuple(functions)
        for function in functions:
            setattr(self, function, self._forward(function))

    def _real(self):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return importlib.import_module(self.__name__)

    def _forward(self, function):
        def forward(*args, **kwargs):
            return getattr(self._real(), function)(*args, **kwargs)

        forward.__name__ = forward.__qualname__ = function
        return forward

    def __getattr__(self, attribute):
        if attribute == "__path__" and self._functions:  # a plain module: `from X import f` must not load it
            raise AttributeError(attribute)
        return getattr(self._real(), attribute)


def _installed(name):
    """Whether module ``name`` is installed, found without importing anything."""
    top, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    if not rest:
        return True
    where = Path(next(iter(spec.submodule_search_locations or []), "")).joinpath(*rest)
    return bool(spec.submodule_search_locations) and where.with_suffix(".py").is_file()


# Markdown to HTML (mistune, BeautifulSoup: 0.08 s of CPU): nbconvert's HTML exporter imports these names,
# and calls them only when it renders a page. Deferred in ``nnbasics grade`` only (``defer_markdown``): the site
# build subclasses and patches these classes (mkdocs-jupyter), which a stand-in cannot be.
MARKDOWN = {
    "nbconvert.filters.markdown_mistune": ("markdown2html_mistune", "IPythonRenderer", "MarkdownWithMath"),
    "bs4": ("BeautifulSoup",),
}


def _install(modules):
    for name, functions in modules:
        if name.split(".")[0] not in sys.modules and name not in sys.modules and _installed(name):
            sys.modules[name] = _Deferred(name, functions)


def defer_markdown():
    """In a process that renders no markdown unless asked (``nnbasics grade``): defer what renders it.

    Nothing is deferred once nbconvert is imported: it imported both (``_install`` skips what is there).
    """
    _install(MARKDOWN.items())


def pause_collector():
    """Pause the cycle collector while a short-lived process imports what it needs (``imports_done`` resumes it).

    Importing nbgrader, SQLAlchemy and nbconvert creates objects by the
    hundred thousand, and the collector runs dozens of times over them, to
    find no garbage: they live as long as the process; once they are frozen,
    the collections while the notebook is graded skip them too. Measured side
    by side, a whole ``nnbasics grade`` of one notebook took 0.77 times as
    long (medians 1.56 s against 1.99 s), of all five 0.91 times.
    """
    gc.disable()


def imports_done():
    """Resume the collector, with everything imported so far moved out of its way (``gc.freeze``).

    Frozen objects are never examined again, which also keeps the collector
    from touching (and so copying) the pages that forked workers share.
    """
    gc.freeze()
    gc.enable()


def resume_collector():
    """Resume the collector without freezing anything (a run that ended before its imports were done)."""
    gc.enable()


_install([*((n, ()) for n in LAZY), *DEFERRED.items()])
