"""Log lines: text or JSON, structured fields, secrets and token-shaped text redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.service.logs import REDACTED, configure
from tests.support.appkeys import key_pair


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_fields_and_hide_secrets(restore_logging: None) -> None:
    out = io.StringIO()
    key = key_pair()[0]
    configure(fmt="json", level="INFO", secrets=("the-webhook-secret", key), stream=out)
    log = logging.getLogger("upgrade-deps.test")
    log.info("delivery accepted", extra={"event": "issue_comment", "jobs": [3], "repository": "o/r"})
    log.warning("GitHub call failed", extra={"call": "POST /x token ghs_abcdef123456", "status": 502})
    log.error("oops the-webhook-secret and %s", key)
    log.debug("not at INFO")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "delivery accepted", "GitHub call failed", f"oops {REDACTED} and {REDACTED}",
    ]  # fmt: skip
    assert lines[0] | {"time": ""} == {"time": "", "level": "INFO", "logger": "upgrade-deps.test",
                                       "message": "delivery accepted", "event": "issue_comment", "jobs": [3],
                                       "repository": "o/r"}  # fmt: skip
    assert lines[1]["call"] == f"POST /x token {REDACTED}" and lines[1]["status"] == 502
    assert "PRIVATE KEY" not in out.getvalue() and "ghs_" not in out.getvalue()


def test_text_lines_and_a_traceback_redacted(restore_logging: None) -> None:
    out = io.StringIO()
    configure(fmt="text", level="INFO", secrets=(), stream=out)
    log = logging.getLogger("upgrade-deps.test")
    log.info("job ended", extra={"job_id": 4, "request": "a==1 b==2", "seconds": 1.5})
    try:
        raise RuntimeError("Authorization: token ghs_secrettoken99 eyJhbGciOiJSUzI1.eyJpc3MiOjQyNDJ9.sig")
    except RuntimeError:
        log.exception("job 4 failed: a bug", extra={"job_id": 4})
    first, *rest = out.getvalue().splitlines()
    assert first.endswith("INFO upgrade-deps.test job ended job_id=4 request='a==1 b==2' seconds=1.5")
    text = "\n".join(rest)
    assert "Traceback (most recent call last)" in text and "job_id=4" in rest[0]
    assert (
        "ghs_secret" not in text and "eyJhbGci" not in text and text.count(REDACTED) == 4
    )  # the message and the line that raised it
