"""Log set-up for `serve` and its workers: text or JSON lines at a level, with secrets redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import IO, Any

from pythonjsonlogger.orjson import OrjsonFormatter

# What a token, key or signed JWT looks like, whoever logs it: installation and user tokens, PATs, JWTs.
TOKENS = (
    r"\b(?:gh[opsur]_[A-Za-z0-9_]{4,}|github_pat_[A-Za-z0-9_]{4,}|eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*)"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"
)
REDACTED = "[redacted]"
# LogRecord's own attributes: everything else on a record came through `extra=` and is a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class Redactor:
    """Replaces the service's own secrets and anything shaped like a token in a formatted line, in one
    pass over the line: every part of it (message, fields, traceback) is covered at once."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Each secret as written and as JSON escapes it (a PEM key's newlines), longest first.
        shown = {
            form for secret in secrets if len(secret) >= 4 for form in (secret, json.dumps(secret)[1:-1])
        }
        literal = "|".join(re.escape(form) for form in sorted(shown, key=len, reverse=True))
        self._pattern = re.compile(f"{literal}|{TOKENS}" if literal else TOKENS, re.DOTALL)

    def text(self, value: str) -> str:
        return self._pattern.sub(REDACTED, value)


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a call passed with `extra=`."""
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class TextFormatter(logging.Formatter):
    """`time level logger message key=value ...`: for a terminal, still one line per event."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{key}={_shown(value)}" for key, value in fields(record).items())
        head, newline, traceback = line.partition("\n")
        return self.redactor.text(f"{head} {extra}".rstrip() + newline + traceback)


def _shown(value: Any) -> str:
    text = str(value)
    return repr(text) if not text or any(c.isspace() or c in "'\"=" for c in text) else text


class JsonLineFormatter(OrjsonFormatter):
    """One JSON object per line (orjson): time, level, logger, message and the call's fields; redacted."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.text(super().format(record))


def configure(
    *, fmt: str, level: str, secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> logging.Handler:
    """Send every logger's records to `stream` (stderr) as text or JSON lines, from `level` up."""
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter(redactor) if fmt == "json" else TextFormatter(redactor))
    # Nobody reads the thread, process or multiprocessing names of our records: not gathering them
    # saves a little on each delivery's line.
    logging.logThreads, logging.logProcesses, logging.logMultiprocessing = False, False, False
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's access log would be a second line per delivery; ours carries what an operator needs.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return handler


def clip(value: object, limit: int = 200) -> str:
    """A value from a delivery, for a log field: bounded, whatever the sender put there."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
