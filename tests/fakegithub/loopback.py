"""The fake GitHub served on loopback for the length of a test; leaving it fails on any request it refused."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from tests.fakegithub.server import FakeGitHub
from tests.support.appkeys import key_pair

APP_ID = 4242  # the test app: the fake checks its JWTs against the public half of `key_pair()`


def refused(fake: FakeGitHub) -> str:
    return "requests the REST description does not allow:\n" + "\n".join(fake.errors)


@contextlib.asynccontextmanager
async def running_fake() -> AsyncIterator[FakeGitHub]:
    """A fresh fake on a port of its own; when the block ends, any request it refused fails the test."""
    fake = FakeGitHub(app_id=APP_ID, public_key=key_pair()[1])
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    try:
        # Port 0: the kernel picks a free port as it binds, so no other process can take it in between.
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield fake
    except BaseException as failure:
        if fake.errors:  # the test failed anyway; the refused requests are often why
            failure.add_note(refused(fake))
        raise
    finally:
        await runner.cleanup()
    assert fake.errors == [], refused(fake)
