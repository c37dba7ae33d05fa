"""Renders the short messages of steps 4 and 7 and the policy checks from `templates/messages/` (pure)."""

from __future__ import annotations

from bot.text.render import environment


def say(group: str, key: str, **values: object) -> str:
    """The macro `key` of `templates/messages/<group>.j2` rendered with `values`, on one line.

    Plain text: the report neutralises untrusted values when it puts them into Markdown.
    """
    macro = getattr(environment().get_template(f"messages/{group}.j2").module, key)
    return " ".join(str(macro(**values)).split())
