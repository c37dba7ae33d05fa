"""Webhook handlers, one module and one Router per event family, composed here and only here."""

from __future__ import annotations

from gidgethub.routing import Router

from handlers import checks, issue_comment, pull_request

router = Router(issue_comment.router, pull_request.router, checks.router)
