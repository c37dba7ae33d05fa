"""PostgreSQL connections of the job store: timeouts, reconnection, notifications, and errors made ours."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import conninfo

from bot.errors import StoreError, StoreUnavailableError

log = logging.getLogger("upgrade-deps.store")
CHANNEL = "upgrade_deps_jobs"  # NOTIFY'd when jobs are added: workers wake at once instead of polling
CONNECT_TIMEOUT = 5  # seconds; a server that does not answer is unavailable, not waited for
Row = tuple[Any, ...]
# What the connection says when the server went away or cannot be reached.
UNREACHABLE = (psycopg.OperationalError, psycopg.InterfaceError)


def where(url: str) -> str:
    """The database `url` names, for messages: host, port and database, never a user or password."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unparsable URL)"
    host = str(parts.get("host") or "localhost")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql {host}{port}/{parts.get('dbname') or ''}"


def options(url: str, settings: str = "") -> dict[str, Any]:
    """How every connection is opened: bounded waits, dead peers noticed, statements bounded.

    Keepalives notice a dead peer on an idle connection; tcp_user_timeout (25 s, what the
    keepalives take) also on one waiting for its answer, which TCP would otherwise retransmit
    for about 15 minutes before giving up, with the caller waiting all that time. `settings` are
    more `-c name=value` session settings for this connection.
    """
    bounds = "-c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000"
    return {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT, "keepalives": 1, "keepalives_idle": 10,
            "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 25_000,
            "application_name": "upgrade-deps",
            "options": f"{bounds} {settings}".strip()}  # fmt: skip


class Database:
    """One connection, opened again once it broke; the ledger's `Sql` in SQLite's `?` style.

    Calls are synchronous: each is one short round trip, made between two awaits of the event
    loop, so a transaction never interleaves with another task's statements on the same connection
    (the webhook server makes its calls on a thread instead, one at a time).

    With `background=True` (a worker's store, called on its event loop) a connection that was lost
    is not opened again by the next call, which could wait the whole connect timeout with the loop
    stopped: calls fail at once until `available()`, made on a thread, has reconnected.
    """

    rowid = "seq"

    def __init__(self, url: str, *, background: bool = False, settings: str = "") -> None:
        self.url = url
        self.settings = settings
        self.where = where(url)
        self.background = background
        self._conn: psycopg.Connection[Row] | None = None
        self._opening = threading.Lock()
        self._lost = False  # opened once, broken since

    def _usable(self) -> psycopg.Connection[Row] | None:
        conn = self._conn
        return conn if conn is not None and not conn.closed and not conn.broken else None

    def connection(self) -> psycopg.Connection[Row]:
        if (conn := self._usable()) is not None:
            return conn
        if self.background and (self._lost or self._conn is not None):
            self._lost = True
            raise StoreUnavailableError(f"lost the job store ({self.where}); reconnecting")
        return self._open()

    def _open(self) -> psycopg.Connection[Row]:
        with self._opening:
            if (conn := self._usable()) is not None:
                return conn
            try:
                self._conn = psycopg.connect(self.url, **options(self.url, self.settings))
            except UNREACHABLE as exc:
                self._lost = True
                raise StoreUnavailableError(
                    f"the job store ({self.where}) cannot be reached: {_first_line(exc)}"
                ) from None
            self._lost = False
            return self._conn

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """psycopg's errors as ours: unreachable, or a statement the database refused."""
        try:
            yield
        except UNREACHABLE as exc:
            if self._conn is not None:
                self._conn.close()
                self._lost = True
            raise StoreUnavailableError(f"lost the job store ({self.where}): {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StoreError(
                f"the job store ({self.where}) refused a statement: {_first_line(exc)}"
            ) from None

    def _execute(self, sql: str, params: Sequence[Any]) -> psycopg.Cursor[Row]:
        with self.errors():
            # No parameters: sent as it is (a migration holds several statements).
            return self.connection().execute(sql.replace("?", "%s") if params else sql, params or None)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self.errors():
            return self._execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.errors():
            return self._execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._execute(sql, params).rowcount

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.errors(), self.connection().transaction():
            yield

    def available(self) -> bool:
        """Whether the database answers now (a fresh connection is tried when the last one broke).

        It may wait the connect timeout: the worker pool calls it on a thread.
        """
        try:
            if self.background and self._usable() is None:
                self._open()
            self.one("SELECT 1")
        except StoreUnavailableError:
            return False
        return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


async def listen(url: str, wake: Callable[[], None], *, pause: float = 1.0) -> None:
    """Call `wake` on every notification of new jobs, reconnecting whenever the connection is lost.

    Runs until cancelled. While the database is away nothing arrives; the workers' own polling
    covers the gap, and a wake-up is sent on every reconnection in case something was missed.
    """
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, **options(url)) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                wake()
                async for _ in conn.notifies():
                    wake()
        except UNREACHABLE as exc:
            log.warning("job notifications from %s: %s; reconnecting", where(url), _first_line(exc))
        await asyncio.sleep(pause)
