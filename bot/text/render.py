"""The one jinja2 environment and `render`: every person-facing text comes from `templates/` (pure)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from bot.text import markdown

if TYPE_CHECKING:
    import jinja2


@cache
def environment(*, trimmed: bool = False) -> jinja2.Environment:
    """The one jinja2 environment per style; `trimmed` drops the newlines around block tags."""
    import jinja2

    env = jinja2.Environment(
        # `bot/templates` is the source tree's `templates/` (a symbolic link), shipped inside the wheel:
        # found as package data, wherever the package is installed.
        loader=jinja2.PackageLoader("bot", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=trimmed,
        lstrip_blocks=trimmed,
        # Markdown, not HTML: untrusted values go through the filters below, which neutralise Markdown.
        autoescape=False,  # noqa: S701 - HTML escapes would show as text in Markdown
    )
    env.filters.update(
        inline=markdown.inline,
        code=markdown.code,
        cell=markdown.cell,
        code_cell=markdown.code_cell,
        block=markdown.block,
        quote=markdown.quote,
        link=markdown.link,
        html_inline=markdown.html_inline,
    )
    return env


@cache
def html_environment() -> jinja2.Environment:
    """For the few HTML pages (the status page): every value is HTML-escaped unless marked safe."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(template: str, /, **context: Any) -> str:
    return html_environment().get_template(template).render(**context)


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def render_trimmed(template: str, /, **context: Any) -> str:
    """Render with block trimming, for the templates written for it (the audit's and the checklists')."""
    return environment(trimmed=True).get_template(template).render(**context)
