"""nnbasics.site.fast_build: nbconvert's templates compiled once per build process, with the same pages."""

import nbformat
import pytest
from jinja2 import Environment
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter

from nnbasics.site import fast_build

TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{% block body_header %}<p id="mark">MARK</p>{{ super() }}{% endblock body_header %}
"""


@pytest.fixture
def compiled(monkeypatch):
    """The names of the templates Jinja compiles, in order; nbconvert's exporter class restored afterwards."""
    monkeypatch.setattr(TemplateExporter, "_create_environment", TemplateExporter._create_environment)
    names = []
    compile_ = Environment.compile

    def spy(self, source, name=None, filename=None, *args, **kwargs):
        names.append(name)
        return compile_(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", spy)
    return names


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A title\n\nSome *text*.", id="prose"),
        nbformat.v4.new_code_cell("x = 1\nx", id="code"),
    ]
    return nb


def _convert(folder):
    exporter = HTMLExporter(
        template_file="page.html.j2", extra_template_paths=[str(folder)]
    )  # a new one, as mkdocs-jupyter makes
    return exporter.from_notebook_node(_notebook())[0]


def _template_names(names):
    return [n for n in names if n and n.endswith(".j2")]


def test_a_second_exporter_compiles_no_template_and_writes_the_same_page(tmp_path, compiled):
    (tmp_path / "page.html.j2").write_text(TEMPLATE, encoding="utf-8")
    stock_first, stock_second = _convert(tmp_path), _convert(tmp_path)
    assert _template_names(compiled).count("page.html.j2") == 2  # nbconvert alone: compiled by each exporter
    compiled.clear()
    fast_build.share_compiled_templates()
    shared = TemplateExporter._create_environment
    fast_build.share_compiled_templates()  # a second call (each mkdocs serve rebuild makes one) wraps nothing more
    assert TemplateExporter._create_environment is shared
    first = _convert(tmp_path)
    compiled_by_first = _template_names(compiled)
    compiled.clear()
    second = _convert(tmp_path)
    assert "page.html.j2" in compiled_by_first
    assert not _template_names(compiled), "the second exporter compiled templates again"
    assert 'id="mark">MARK<' in second
    assert first == second == stock_first == stock_second  # the same HTML as nbconvert alone writes


def test_an_edited_template_is_compiled_again(tmp_path, compiled):
    page = tmp_path / "page.html.j2"
    page.write_text(TEMPLATE, encoding="utf-8")
    fast_build.share_compiled_templates()
    assert "MARK" in _convert(tmp_path)
    page.write_text(TEMPLATE.replace("MARK", "EDITED"), encoding="utf-8")
    compiled.clear()
    html = _convert(tmp_path)
    assert "EDITED" in html and "MARK" not in html
    assert _template_names(compiled) == ["page.html.j2"]
