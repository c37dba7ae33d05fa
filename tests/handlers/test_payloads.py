"""The payload layer: every field the handlers read is checked for type, nullability and shape."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import JobSpecError, PayloadError
from bot.service import jobspec
from handlers.payloads import IssueComment, check_action, parse
from tests.handlers.test_intake import accepted
from tests.support.webhooks import payload

COMMENT = "issue_comment.created.with-installation"


def comment(**changes: Any) -> dict[str, Any]:
    data = payload(COMMENT)
    data["comment"]["body"] = "/upgrade-deps a==1"
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for key in parents:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return data


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"comment": None}, "$.comment"),
        ({"comment__id": True}, "$.comment.id"),  # a boolean is not an integer
        ({"comment__id": 1.0}, "$.comment.id"),
        ({"comment__id": 2**63}, "$.comment.id"),
        ({"comment__body": None}, "$.comment.body"),
        ({"comment__body": "x" * 65_537}, "$.comment.body"),
        ({"comment__user": "octocat"}, "$.comment.user"),
        ({"comment__user__login": None}, "$.comment.user.login"),
        ({"comment__user__login": "-octocat"}, "$.comment.user.login"),
        ({"comment__user__login": "a--b"}, "$.comment.user.login"),
        ({"comment__user__login": "a" * 40}, "$.comment.user.login"),
        ({"comment__user__login": "octocät"}, "$.comment.user.login"),
        ({"issue": None}, "$.issue"),
        ({"issue__number": "1"}, "$.issue.number"),
        ({"issue__pull_request": None}, "$.issue.pull_request"),
        ({"installation": None}, "$.installation"),  # absent is a repository hook; null is not GitHub
        ({"installation__id": "1"}, "$.installation.id"),
        ({"repository": None}, "$.repository"),
        ({"repository__full_name": "no-slash"}, "$.repository.full_name"),
        ({"repository__full_name": "o/.."}, "$.repository.full_name"),
        ({"repository__default_branch": "a..b"}, "$.repository.default_branch"),
        ({"repository__clone_url": "git@github.com:o/r.git"}, "$.repository.clone_url"),
        ({"repository__clone_url": "ext::sh -c id"}, "$.repository.clone_url"),
        ({"repository__clone_url": "https://x:y@github.com/o/r.git"}, "$.repository.clone_url"),
        ({"repository__clone_url": "https://github.com/someone/else.git"}, "$.repository"),
        ({"repository__clone_url": KeyError}, "$.repository"),
    ],
)
async def test_malformed_fields_are_refused_by_name(changes: dict[str, Any], where: str) -> None:
    with pytest.raises(PayloadError) as caught:
        await accepted("issue_comment", comment(**changes))
    assert caught.value.args[0].endswith(f"at `{where}`") and "regex" not in caught.value.args[0]


@pytest.mark.parametrize(
    "changes",
    [
        {"installation": KeyError},
        {"comment__user": None},
        {"comment__user__type": "Bot"},
        {"comment__body": "hi"},
    ],
)
async def test_deliveries_github_may_send_that_we_ignore(changes: dict[str, Any]) -> None:
    assert await accepted("issue_comment", comment(**changes)) == []


async def test_local_bare_repositories_and_null_fields_github_allows() -> None:
    [spec] = await accepted("issue_comment", comment(repository__clone_url="file:///srv/git/x.git"))
    assert spec.target.clone_url == "file:///srv/git/x.git"
    pull = payload("pull_request.opened")
    pull["pull_request"]["head"]["repo"] = None  # the fork was deleted
    pull["pull_request"]["body"] = None
    [bot] = await accepted("pull_request", pull)
    assert isinstance(bot, jobspec.BotPull) and (bot.head_repo, bot.body) == ("", "")
    gone = payload("pull_request.synchronize")
    gone["pull_request"]["user"] = None
    assert await accepted("pull_request", gone) == []
    run = payload("check_run.rerequested")
    run["check_run"]["app"] = None
    assert await accepted("check_run", run) == []
    for bad in ([], {"x": 1}, 1, True):
        with pytest.raises(PayloadError, match=r"\$\.action"):
            check_action({"action": bad})


async def test_pull_request_fields_are_checked() -> None:
    for path, value in [(("sender",), None), (("pull_request", "head", "sha"), "g" * 40),
                        (("pull_request", "head", "ref"), "-rf"), (("pull_request", "number"), False),
                        (("pull_request", "user", "login"), "x y")]:  # fmt: skip
        data = payload("pull_request.opened")
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        with pytest.raises(PayloadError, match=r"\$\." + r"\.".join(path)):
            await accepted("pull_request", data)


@settings(max_examples=300)
@given(name=st.text(st.sampled_from("ab/.-@{}~^:?*[\\ \t\x7fHEADlock"), min_size=1, max_size=12))
def test_branch_names_are_what_git_accepts(name: str) -> None:
    data = payload(COMMENT)
    data["repository"]["default_branch"] = name
    checked = subprocess.run(["git", "check-ref-format", f"refs/heads/{name}"], capture_output=True)
    git = checked.returncode == 0
    git = git and not name.startswith("-") and name not in ("HEAD", "@")  # `git branch` refuses these too
    try:
        parse(data, IssueComment)
        ours = True
    except PayloadError:
        ours = False
    assert ours == git, name


@settings(max_examples=500)
@given(kind=st.sampled_from(["command", "bot-pull", "rerun", "other"]),
       text=st.text(max_size=60) | st.sampled_from(['{"target": {}}', "[]", "null", "{}"]))  # fmt: skip
def test_stored_specs_that_are_not_specs_raise_only_our_error(kind: str, text: str) -> None:
    with pytest.raises(JobSpecError):
        jobspec.loads(kind, text)


async def test_stored_spec_with_a_junk_field_is_refused() -> None:
    [spec] = await accepted("issue_comment", comment())
    stored = jobspec.dumps(spec)
    assert jobspec.loads("command", stored) == spec
    for junk in ('"Codertocat"', '"https://github.com/Codertocat/Hello-World.git"'):
        bad = stored.replace(junk, '"x; rm -rf /"', 1)
        with pytest.raises(JobSpecError, match="stored command job spec"):
            jobspec.loads("command", bad)
