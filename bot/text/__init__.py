"""Person-facing text: the jinja2 environment and rendering, Markdown neutralising, wording."""
