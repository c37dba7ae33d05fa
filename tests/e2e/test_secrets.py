"""What the kernel shows of the real server and its workers: no secret in any environment or command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import ServerProcess
from tests.support.appkeys import key_pair, key_parts
from tests.support.webhooks import SECRET

pytestmark = pytest.mark.slow


async def test_neither_the_server_nor_its_workers_show_a_secret(server: ServerProcess) -> None:
    assert server.process is not None
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert children, "the worker process is not running"
    secrets = [SECRET, *key_parts(key_pair()[0])]
    for process in (str(pid), *children):
        for view in ("environ", "cmdline"):
            shown = Path(f"/proc/{process}/{view}").read_bytes().decode(errors="replace")
            assert [s for s in secrets if s in shown] == [], f"/proc/{process}/{view}"
            assert "GITHUB_PRIVATE_KEY" not in shown and "GITHUB_WEBHOOK_SECRET" not in shown
    # Still the same process, serving with the settings it was handed over the pipe.
    assert "--settings-fd" in Path(f"/proc/{pid}/cmdline").read_text()
    assert (await server.health())["ok"]
