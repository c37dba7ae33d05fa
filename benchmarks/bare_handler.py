"""The baseline: an aiohttp handler that checks the HMAC signature and inserts one row into SQLite (WAL)."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import sqlite3

from aiohttp import web


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, delivery TEXT UNIQUE, body BLOB)")
    key = args.secret.encode()

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), expected):
            return web.Response(status=401)
        db.execute(
            "INSERT OR IGNORE INTO jobs (delivery, body) VALUES (?, ?)",
            (request.headers["X-GitHub-Delivery"], body),
        )
        return web.Response(status=202)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=25 * 1024 * 1024)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
