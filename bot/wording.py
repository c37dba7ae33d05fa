"""Renders the short messages steps 4 and 7 hand to the report from `templates/messages/` (pure)."""

from __future__ import annotations

from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "messages"


def say(group: str, key: str, **values: object) -> str:
    """The macro `key` of `templates/messages/<group>.j2` rendered with `values`, on one line.

    Plain text: the report neutralises untrusted values when it puts them into Markdown.
    """
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )
    macro = getattr(environment.get_template(f"{group}.j2").module, key)
    return " ".join(str(macro(**values)).split())
