"""The site's MkDocs hooks (mkdocs.yml names this file): they live in the package, ``nnbasics.site.course_files``."""

from nnbasics.site.course_files import (
    on_build_error,
    on_config,
    on_files,
    on_page_content,
    on_page_markdown,
    on_post_build,
    on_post_page,
    on_post_template,
)

__all__ = [
    "on_build_error",
    "on_config",
    "on_files",
    "on_page_content",
    "on_page_markdown",
    "on_post_build",
    "on_post_page",
    "on_post_template",
]
