"""`upgrade-deps db migrate`: create or update the PostgreSQL job store's schema."""

from __future__ import annotations

import sys
from argparse import Namespace

from bot.errors import StoreError
from bot.service.pgconn import Database
from bot.service.pgschema import migrate
from bot.settings import SettingsError, database_from_process


def main(args: Namespace) -> int:
    try:
        _, url = database_from_process()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"upgrade-deps db: {problem}", file=sys.stderr)
        return 2
    if not url:
        print("upgrade-deps db: UPGRADE_DEPS_DB is a SQLite file, whose tables are made when it is opened:"
              " nothing to migrate")  # fmt: skip
        return 0
    db = Database(url)
    try:
        done = migrate(db, at_start=False)
    except StoreError as exc:
        print(f"upgrade-deps db: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    if done.before == done.after:
        print(f"upgrade-deps db: {db.where} is at schema version {done.after}; nothing to do")
    else:
        print(f"upgrade-deps db: {db.where} migrated from schema version {done.before} to {done.after}")
    return 0
