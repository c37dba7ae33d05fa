"""The per-package API checklist model: parse, validate, update, create from the template."""
