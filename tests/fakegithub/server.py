"""The fake GitHub: state for the operations the bot uses; requests off the description fail the test."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web

from tests.fakegithub.holds import Hold, Holds
from tests.fakegithub.spec import Operation, RestSpec

Handler = Callable[[web.Request, dict[str, str], Any], Awaitable[web.Response]]


@dataclass
class Repo:
    full_name: str
    bare: Path
    default_branch: str = "main"

    @property
    def clone_url(self) -> str:
        return self.bare.as_uri()

    def ref(self, branch: str) -> str | None:
        out = subprocess.run(["git", "rev-parse", "--verify", "-q", f"refs/heads/{branch}"], cwd=self.bare,
                             capture_output=True, text=True)  # fmt: skip
        return out.stdout.strip() or None


@dataclass
class FakeGitHub:
    app_id: int
    public_key: str
    slug: str = "upgrade-deps"
    repos: dict[str, Repo] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # login -> role_name
    errors: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)  # token -> installation
    holds: Holds = field(default_factory=Holds)
    held: dict[str, asyncio.Event] = field(default_factory=dict)  # operationId -> the hold's arrival
    failures: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)  # operationId -> answer
    spec: RestSpec = field(default_factory=RestSpec)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    url: str = ""
    token_expiry: str = "2999-01-01T00:00:00Z"
    releases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "owner/name" -> newest first
    rate_remaining: dict[str, int] = field(default_factory=dict)  # credential -> what GitHub would report

    # Test helpers
    def hold(self, operation_id: str) -> asyncio.Event:
        """Block the next `operation_id` request until the event returned is set; `held` fires on arrival."""
        held = self.holds.add(Hold(operation_id, after=False, when=lambda body: True))
        self.held[operation_id] = held.arrived
        return held.released

    def hold_after(self, operation_id: str, when: Callable[[Any], bool] = lambda body: True) -> Hold:
        """Apply the next `operation_id` request whose body satisfies `when`, then hold its answer."""
        return self.holds.add(Hold(operation_id, after=True, when=when))

    def add_pull(self, repo: str, number: int, *, head: str, base: str, author: str,
                 head_repo: Repo | None = None) -> dict[str, Any]:  # fmt: skip
        r = self.repos[repo]
        source = head_repo or r
        pull = {
            "number": number, "state": "open", "title": f"PR {number}", "body": "",
            "html_url": f"https://github.example/{repo}/pull/{number}",
            "user": {"login": author, "type": "Bot" if author.endswith("[bot]") else "User"},
            "head": {"ref": head, "sha": source.ref(head) or "", "repo": {"full_name": source.full_name,
                                                                         "clone_url": source.clone_url}},
            "base": {"ref": base, "sha": r.ref(base) or "",
                     "repo": {"full_name": repo, "clone_url": r.clone_url}},
            "_head_repo": source,
        }  # fmt: skip
        self.pulls[(repo, number)] = pull
        return pull

    def add_release(self, repo: str, tag: str, body: str, *, name: str = "", draft: bool = False) -> None:
        """A release of `repo` (any repository, like a package's upstream), listed newest first."""
        release_id = next(self.ids)
        url = f"https://github.example/{repo}/releases/tag/{tag}"
        self.releases.setdefault(repo, []).insert(0, {
            "id": release_id, "node_id": f"RE_{release_id}", "tag_name": tag, "name": name or tag,
            "body": body, "draft": draft, "prerelease": False, "html_url": url,
            "url": f"{self.url}/repos/{repo}/releases/{release_id}",
            "assets_url": "", "upload_url": "", "tarball_url": None, "zipball_url": None,
            "created_at": "2026-01-01T00:00:00Z", "published_at": "2026-01-01T00:00:00Z",
            "author": {"login": "octocat"}, "target_commitish": "main", "assets": [],
        })  # fmt: skip

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["_number"] == number]

    # HTTP
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def _dispatch(self, request: web.Request) -> web.Response:
        admitted = await self._admit(request)
        if isinstance(admitted, web.Response):
            return admitted
        op, body = admitted
        self.requests.append((request.method, request.path, body))
        if op.operation_id in self.failures:
            status, extra = self.failures.pop(op.operation_id)
            return web.json_response({"message": "injected failure"}, status=status, headers=extra)
        held = self.holds.take(op.operation_id, body)
        if held is not None and not held.after:
            held.arrived.set()
            await held.released.wait()
        unauthorised = self._unauthorised(request)
        if unauthorised is not None:
            return unauthorised
        handler = getattr(self, "op_" + op.operation_id.replace("/", "_").replace("-", "_"), None)
        if handler is None:
            return self._reject(request, f"fake has no handler for {op.operation_id}", 501)
        match = op.pattern.match(request.path)
        assert match is not None
        params = match.groupdict()
        result: web.Response = await handler(request, params, body)
        self._count_rate(request, result)
        if held is not None and held.after:
            held.arrived.set()
            await held.released.wait()
        return result

    async def _admit(self, request: web.Request) -> tuple[Operation, Any] | web.Response:
        """The operation and JSON body of a request the REST description allows, else the refusal."""
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return self._reject(request, "body is not JSON")
        op = self.spec.match(request.method, request.path)
        if op is None:
            return self._reject(request, "no such operation in rest-api-subset.json", 404)
        problems = self.spec.problems(op, body)
        if problems:
            return self._reject(request, "; ".join(problems), 422)
        return op, body

    def _unauthorised(self, request: web.Request) -> web.Response | None:
        """The 401 for a request without the app's JWT (`/app...`) or an installation token (the rest)."""
        scheme, _, auth = request.headers.get("Authorization", "").partition(" ")
        if request.path.startswith("/app"):
            if scheme.lower() != "bearer" or not self._valid_jwt(auth):
                return self._reject(request, "bad app JWT", 401)
        elif scheme.lower() not in ("token", "bearer") or auth not in self.tokens:
            return self._reject(request, "no valid installation token", 401)
        return None

    def _count_rate(self, request: web.Request, result: web.Response) -> None:
        """As GitHub: every answer says how much of the credential's hourly rate limit is left."""
        auth = request.headers.get("Authorization", "").partition(" ")[2]
        left = self.rate_remaining[auth] = self.rate_remaining.get(auth, 5000) - 1
        limits = {"Limit": "5000", "Remaining": str(left), "Reset": "4102444800", "Used": str(5000 - left)}
        result.headers.update({f"X-RateLimit-{key}": value for key, value in limits.items()})

    def _reject(self, request: web.Request, why: str, status: int = 400) -> web.Response:
        self.errors.append(f"{request.method} {request.path_qs}: {why}")
        return web.json_response({"message": why}, status=status)

    def _valid_jwt(self, auth: str) -> bool:
        try:
            claims = jwt.decode(auth, self.public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return False
        return str(claims.get("iss")) == str(self.app_id)

    # Operations
    async def op_apps_get_authenticated(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        return web.json_response({"id": self.app_id, "slug": self.slug, "name": self.slug})

    async def op_apps_create_installation_access_token(
        self, r: web.Request, p: dict[str, str], b: Any
    ) -> web.Response:
        token = f"ghs_fake{next(self.ids)}"
        self.tokens[token] = int(p["installation_id"])
        return web.json_response({"token": token, "expires_at": self.token_expiry}, status=201)

    async def op_repos_get_collaborator_permission_level(
        self, r: web.Request, p: dict[str, str], b: Any
    ) -> web.Response:
        role = self.roles.get(p["username"], "read")
        permission = {"maintain": "write", "triage": "read"}.get(role, role)
        return web.json_response(
            {"permission": permission, "role_name": role, "user": {"login": p["username"]}}
        )

    async def op_reactions_create_for_issue_comment(
        self, r: web.Request, p: dict[str, str], b: Any
    ) -> web.Response:
        reaction = {"comment_id": int(p["comment_id"]), "content": b["content"]}
        if reaction in self.reactions:  # as GitHub: the app's same reaction again is answered 200
            return web.json_response({"id": 1, "content": b["content"]}, status=200)
        self.reactions.append(reaction)
        return web.json_response({"id": next(self.ids), "content": b["content"]}, status=201)

    async def op_issues_create_comment(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        comment_id = next(self.ids)
        self.comments[comment_id] = {"id": comment_id, "body": b["body"], "_number": int(p["issue_number"]),
                                     "user": {"login": f"{self.slug}[bot]", "type": "Bot"}}  # fmt: skip
        return web.json_response(_public(self.comments[comment_id]), status=201)

    async def op_issues_list_comments(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        return web.json_response([_public(c) for c in self.comments_on(int(p["issue_number"]))])

    async def op_issues_update_comment(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        comment = self.comments[int(p["comment_id"])]
        comment["body"] = b["body"]
        comment["edits"] = comment.get("edits", 0) + 1
        return web.json_response(_public(comment))

    async def op_checks_create(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        run_id = next(self.ids)
        self.check_runs[run_id] = {
            "id": run_id,
            **b,
            "annotations": list(b.get("output", {}).pop("annotations", [])),
        }
        return web.json_response({"id": run_id, **_public(self.check_runs[run_id])}, status=201)

    def _check_run(self, run: dict[str, Any]) -> dict[str, Any]:
        output = {**run.get("output", {}), "annotations_count": len(run["annotations"])}
        return {**_public(run), "output": output, "app": {"id": self.app_id, "slug": self.slug},
                "status": run.get("status", "queued"), "conclusion": run.get("conclusion")}  # fmt: skip

    async def op_checks_get(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        run = self.check_runs.get(int(p["check_run_id"]))
        if run is None:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response(self._check_run(run))

    async def op_checks_list_for_ref(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        name, app_id = r.query.get("check_name"), r.query.get("app_id")
        if app_id is not None and app_id != str(self.app_id):
            return web.json_response({"total_count": 0, "check_runs": []})
        runs = [self._check_run(run) for run in self.check_runs.values()
                if run["head_sha"] == p["ref"] and name in (None, run.get("name"))]  # fmt: skip
        return web.json_response({"total_count": len(runs), "check_runs": runs})

    async def op_checks_update(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        run = self.check_runs[int(p["check_run_id"])]
        output = dict(b.get("output", {}))
        run["annotations"].extend(output.pop("annotations", []))
        run.update({k: v for k, v in b.items() if k != "output"})
        run["output"] = {**run.get("output", {}), **output}
        run.setdefault("history", []).append(output.get("title"))
        return web.json_response(_public(run))

    async def op_repos_get_content(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        repo = self.repos.get(f"{p['owner']}/{p['repo']}")
        if repo is None:
            return web.json_response({"message": "Not Found"}, status=404)
        # A few milliseconds of git on a small bare repository; the client waits for the answer anyway.
        show = ["git", "show", f"{r.query.get('ref', 'HEAD')}:{p['path']}"]
        shown = subprocess.run(show, cwd=repo.bare, capture_output=True)  # noqa: ASYNC221
        if shown.returncode != 0:
            return web.json_response({"message": "Not Found"}, status=404)
        content = base64.b64encode(shown.stdout).decode()
        name = p["path"].rsplit("/", 1)[-1]
        return web.json_response({"type": "file", "encoding": "base64", "content": content,
                                  "path": p["path"], "name": name, "size": len(shown.stdout)})  # fmt: skip

    async def op_pulls_list(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        head = r.query.get("head", "")
        found = [_public(pr) for (repo, _), pr in self.pulls.items() if repo == f"{p['owner']}/{p['repo']}"
                 and (not head or f"{repo.split('/')[0]}:{pr['head']['ref']}" == head)]  # fmt: skip
        return web.json_response(found)

    async def op_pulls_create(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        repo = f"{p['owner']}/{p['repo']}"
        number = 100 + len(self.pulls)
        pull = self.add_pull(repo, number, head=b["head"], base=b["base"], author=f"{self.slug}[bot]")
        pull.update(title=b.get("title", ""), body=b.get("body", ""))
        return web.json_response(_public(pull), status=201)

    async def op_pulls_get(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        pull = self.pulls[(f"{p['owner']}/{p['repo']}", int(p["pull_number"]))]
        source: Repo = pull["_head_repo"]
        pull["head"]["sha"] = source.ref(pull["head"]["ref"]) or pull["head"]["sha"]
        return web.json_response(_public(pull))

    async def op_pulls_list_files(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        repo, number = f"{p['owner']}/{p['repo']}", int(p["pull_number"])
        pull = self.pulls[(repo, number)]
        # As GitHub does: the head is fetched into the base repository as refs/pull/N/head, so a
        # fork's commits and the base commit meet in one object store.
        bare = self.repos[repo].bare
        head = f"refs/pull/{number}/head"
        _git(
            bare,
            "fetch",
            "-q",
            "--force",
            str(pull["_head_repo"].bare),
            f"refs/heads/{pull['head']['ref']}:{head}",
        )
        span = f"{pull['base']['sha']}...{head}"
        names = _git(bare, "diff", "--name-only", span).split()
        files = []
        for name in names:
            diff = _git(bare, "diff", span, "--", name)
            files.append({"filename": name, "patch": diff[diff.find("@@") :] if "@@" in diff else ""})
        return web.json_response(files)

    async def op_pulls_list_review_comments(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        number = int(p["pull_number"])
        return web.json_response([c for review in self.reviews if review["number"] == number
                                  for c in review["comments"]])  # fmt: skip

    async def op_repos_list_releases(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        repo = f"{p['owner']}/{p['repo']}"
        if repo not in self.releases:
            return web.json_response({"message": "Not Found"}, status=404)
        per_page, page = int(r.query.get("per_page", "30")), int(r.query.get("page", "1"))
        return web.json_response(self.releases[repo][(page - 1) * per_page : page * per_page])

    async def op_repos_get_release_by_tag(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        found = [
            rel for rel in self.releases.get(f"{p['owner']}/{p['repo']}", []) if rel["tag_name"] == p["tag"]
        ]
        if not found:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response(found[0])

    async def op_pulls_create_review(self, r: web.Request, p: dict[str, str], b: Any) -> web.Response:
        review = {"id": next(self.ids), "number": int(p["pull_number"]), **b}
        author = {"login": f"{self.slug}[bot]", "type": "Bot"}
        review["comments"] = [{**comment, "user": author} for comment in b.get("comments", [])]
        self.reviews.append(review)
        return web.json_response({"id": review["id"], "body": b.get("body", "")})


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout
