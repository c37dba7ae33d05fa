"""The PostgreSQL job store across processes: leases, one running job per subject, coalescing, outages."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from bot.errors import StoreError, StoreUnavailableError
from bot.service.inbox import NewJob
from bot.service.pgconn import Database
from bot.service.pgintake import INSERT, PgIntake, clock
from bot.service.pgjobs import PgJobStore
from bot.service.pgschema import LATEST, migrate
from tests.support.postgres import connections, cut_connections, running_cluster


def test_a_killed_workers_job_goes_to_another_once_its_lease_runs_out(pg_url: str) -> None:
    killed, other = PgJobStore(pg_url, lease=10), PgJobStore(pg_url, lease=10)
    job_id = killed.add(delivery="d", subject="o/r#1", kind="command", spec="{}")
    taken = killed.claim()
    assert taken is not None and taken.id == job_id
    now = clock(Database(pg_url))
    assert other.claim(now=now + 5) is None  # the lease still holds: nobody else runs it
    again = other.claim(now=now + 11)  # `killed` never renewed it
    assert again is not None and again.id == job_id and again.attempts == 2
    # The first worker comes back: it is told the job is no longer its own, and cannot finish it.
    assert killed.renew([taken.id]) == {taken.id}
    killed.finish(taken.id, "failed", "too late")
    found = other.get(taken.id)
    assert found is not None and found.state == "running"
    assert other.renew([taken.id]) == set()
    other.finish(taken.id, "done")
    done = killed.get(taken.id)
    assert done is not None and done.state == "done"


def test_workers_claiming_at_once_never_run_two_jobs_of_one_subject(pg_url: str) -> None:
    intake = PgIntake(pg_url)
    jobs = [NewJob(f"d{n}", f"o/r#{n % 3}", "command", "{}") for n in range(30)]
    intake.add_many(jobs)
    running: Counter[str] = Counter()
    ran: list[str] = []
    guard = threading.Lock()
    overlaps: list[str] = []

    def worker() -> None:
        store = PgJobStore(pg_url, lease=60)
        idle = 0
        while idle < 50:
            job = store.claim()
            if job is None:
                idle += 1
                continue
            with guard:
                running[job.subject] += 1
                if running[job.subject] > 1:
                    overlaps.append(job.subject)
                ran.append(job.delivery)
            with guard:
                running[job.subject] -= 1
            store.finish(job.id, "done")
        store.close()

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(worker) for _ in range(4)]:
            future.result()
    assert overlaps == []
    assert sorted(ran) == sorted(job.delivery for job in jobs)  # each exactly once
    assert intake.counts() == {"done": 30}


def test_two_replicas_coalescing_one_pull_request_at_once_run_only_the_newest(pg_url: str) -> None:
    replicas = [PgIntake(pg_url), PgIntake(pg_url)]

    def deliver(index: int) -> None:
        for n in range(20):
            key = f"{index}-{n}"
            pulls = [NewJob(key, "o/r#5", "bot-pull", "{}", "o/r#5:pull"),
                     NewJob(f"{key}-other", "o/r#6", "bot-pull", "{}", "o/r#6:pull")]  # fmt: skip
            replicas[index].add_many(pulls)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(deliver, index) for index in range(2)]:
            future.result()
    store = PgJobStore(pg_url, lease=60)
    claimed = [store.claim(), store.claim(), store.claim()]
    newest = {
        subject: max(job.id for job in store.jobs() if job.subject == subject)
        for subject in ("o/r#5", "o/r#6")
    }
    assert (
        sorted(job.id for job in claimed if job is not None) == sorted(newest.values()) and claimed[2] is None
    )
    states = Counter((job.subject, job.state) for job in store.jobs())
    assert states == {("o/r#5", "running"): 1, ("o/r#5", "superseded"): 39,
                      ("o/r#6", "running"): 1, ("o/r#6", "superseded"): 39}  # fmt: skip


def test_a_claim_supersedes_an_older_queued_job_a_concurrent_replica_left(pg_url: str) -> None:
    store = PgJobStore(pg_url, lease=60)
    with psycopg.connect(
        pg_url, autocommit=True
    ) as conn:  # as two replicas' commits at one instant leave them
        for delivery in ("older", "newer"):
            conn.execute(
                "INSERT INTO jobs (delivery, subject, kind, coalesce_key, spec, created, updated)"
                " VALUES (%s, 'o/r#5', 'bot-pull', '{}', 'o/r#5:pull', 0, 0)",
                (delivery,),
            )
    job = store.claim()
    assert job is not None and job.delivery == "newer"
    older = next(job for job in store.jobs() if job.delivery == "older")
    assert older.state == "superseded" and older.error == "superseded by delivery newer"


def test_a_database_that_goes_away_is_unavailable_then_reconnected() -> None:
    with running_cluster() as cluster:
        url = cluster.create_database()
        migrate(Database(url), at_start=True)
        intake, store = PgIntake(url), PgJobStore(url, lease=30)
        assert intake.add_many([NewJob("before", "o/r#1", "command", "{}")]) == [1]
        cluster.stop()
        with pytest.raises(StoreUnavailableError) as caught:
            intake.add_many([NewJob("during", "o/r#1", "command", "{}")])
        assert url not in str(caught.value) and "postgres@" not in str(caught.value)  # never the URL's user
        with pytest.raises(StoreUnavailableError):
            store.claim()
        assert not store.available()
        cluster.start()
        assert store.available()
        assert intake.add_many([NewJob("during", "o/r#1", "command", "{}")]) != [None]  # redelivered: stored
        job = store.claim()
        assert job is not None and job.delivery == "before"


def test_a_workers_lost_connection_is_opened_again_only_by_the_probe(pg_url: str) -> None:
    db = Database(pg_url, background=True)
    assert db.one("SELECT 1") == (1,)
    assert cut_connections(pg_url) == 1
    with pytest.raises(StoreUnavailableError, match="lost the job store"):
        db.one("SELECT 1")
    # The calls a worker makes on its event loop fail at once: none of them waits to connect.
    with pytest.raises(StoreUnavailableError, match="reconnecting"):
        db.one("SELECT 1")
    assert connections(pg_url) == 0
    assert db.available()  # what the pool calls on a thread
    assert db.one("SELECT 1") == (1,) and connections(pg_url) == 1
    assert cut_connections(pg_url) == 1
    with pytest.raises(StoreUnavailableError, match="lost the job store"):
        db.one("SELECT 1")
    assert db.available()  # the first probe after the loss reconnects
    db.close()


def test_migrations_are_idempotent_and_refuse_a_newer_schema(pg_url: str) -> None:
    db = Database(pg_url)
    assert migrate(db, at_start=True).before == LATEST  # pg_url's fixture applied them
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO upgrade_deps_schema (version, what) VALUES (%s, 'from the future')",
                     (LATEST + 1,))  # fmt: skip
    with pytest.raises(StoreError, match=f"schema version {LATEST + 1}, newer than this upgrade-deps"):
        migrate(db, at_start=True)


def test_migrating_from_several_processes_at_once_applies_each_step_once(postgres: object) -> None:
    from tests.support.postgres import Cluster

    assert isinstance(postgres, Cluster)
    url = postgres.create_database()
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: migrate(Database(url), at_start=True), range(3)))
    assert sorted(result.before for result in results) == [0, LATEST, LATEST]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM upgrade_deps_schema").fetchone() == (LATEST,)


def test_the_status_page_and_queue_gauges_read_the_postgresql_store(pg_url: str) -> None:
    from bot.service.ledger import Timing
    from bot.service.store_view import PgQueueView

    store = PgJobStore(pg_url, lease=60)
    first = store.add(delivery="a", subject="o/r#1", kind="command", spec="{}")
    second = store.add(delivery="b", subject="o/r#2", kind="bot-pull", spec="{}")
    assert first is not None and second is not None
    taken = store.claim()
    assert taken is not None and taken.id == first
    store.ledger(first).set_timing(Timing(started=12.0))
    view = PgQueueView(pg_url)
    queue = view.queue()
    assert queue.by_state_kind == {("running", "command"): 1, ("queued", "bot-pull"): 1}
    assert queue.oldest_queued is not None
    recent = view.recent()
    assert [(job.id, job.state, job.kind) for job in recent] == [(second, "queued", "bot-pull"),
                                                                  (first, "running", "command")]  # fmt: skip
    assert recent[1].timing == Timing(started=12.0) and recent[0].timing is None
    view.close()
    store.close()


def test_deliveries_keep_every_character_an_array_would_escape(pg_url: str) -> None:
    # The batch goes to the database as arrays, sent in binary: no quoting of their elements.
    odd = 'a "quoted" {brace}, back\\slash\\\\, NULL, ünïcödé ✓, tab\tnewline\n'
    store = PgJobStore(pg_url, lease=30)
    ids = PgIntake(pg_url).add_many([NewJob(f"d-{odd}", f"o/r#{odd}", "command", odd, None),
                                     NewJob("NULL", "o/r#2", "command", "{}", f"key {odd}")])  # fmt: skip
    assert ids == [1, 2]
    first, second = store.get(1), store.get(2)
    assert first is not None
    assert (first.delivery, first.subject, first.spec) == (f"d-{odd}", f"o/r#{odd}", odd)
    assert second is not None and second.delivery == "NULL"
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT coalesce_key FROM jobs ORDER BY id").fetchall()
    assert rows == [(None,), (f"key {odd}",)]
    store.close()


def test_every_connection_bounds_how_long_a_dead_peer_can_keep_it_waiting(pg_url: str) -> None:
    db = Database(pg_url)
    given = db.connection().info.get_parameters()
    # Idle: keepalives after 10 s, 3 probes 5 s apart; waiting for an answer: 25 s unacknowledged.
    assert {key: given.get(key) for key in ("connect_timeout", "keepalives_idle", "keepalives_interval",
                                            "keepalives_count", "tcp_user_timeout")} == {
        "connect_timeout": "5", "keepalives_idle": "10", "keepalives_interval": "5",
        "keepalives_count": "3", "tcp_user_timeout": "25000",
    }  # fmt: skip
    assert db.one("SHOW statement_timeout") == ("30s",)
    db.close()


def test_the_intake_plans_each_batch_for_the_table_as_it_is_with_index_scans(pg_url: str) -> None:
    # A generic plan made while the table was empty, or a bitmap scan (which never marks the index
    # entries of superseded jobs dead), made each batch cost more the more jobs its key superseded.
    intake = PgIntake(pg_url)
    for batch in range(30):  # past psycopg's threshold for preparing the statement
        intake.add_many([NewJob(f"d-{batch}-{i}", "o/r#1", "pull", "{}", "o/r#1:pull") for i in range(2)])
    writer = intake._writer
    assert writer.one("SHOW plan_cache_mode") == ("force_custom_plan",)
    assert writer.one("SHOW enable_bitmapscan") == ("off",)  # a table this small gets no bitmap scan anyway
    columns = (["d-new"], ["o/r#1"], ["pull"], ["o/r#1:pull"], ["{}"])
    plan = "\n".join(str(row[0]) for row in writer.all(f"EXPLAIN {INSERT}", columns))
    assert "Index Scan using jobs_coalesce" in plan
    assert "Bitmap" not in plan
    reader = Database(pg_url)  # every other connection keeps PostgreSQL's defaults
    assert reader.one("SHOW plan_cache_mode") == ("auto",)
    assert reader.one("SHOW enable_bitmapscan") == ("on",)
    reader.close()
    intake.close()
