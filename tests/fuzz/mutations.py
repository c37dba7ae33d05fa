"""Hypothesis strategies: the real webhook payloads with fields deleted, nulled, retyped or replaced.

`READ` lists, per event, the fields the handlers read, with the JSON type and nullability GitHub's
webhook schema (`webhooks-openapi-subset.json`, described in tests/fixtures/github/SOURCES.md) gives
them; it is the oracle a single mutation is judged by (a required field gone, a `null` GitHub never
sends, a value of another JSON type: 400), independent of how the intake checks them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from hypothesis import strategies as st

from tests.support.webhooks import FIXTURES

Path = tuple[str | int, ...]
HANDLED = {"issue_comment": "created", "pull_request": ("opened", "synchronize", "reopened"),
           "check_run": "rerequested", "check_suite": "rerequested"}  # fmt: skip
PAYLOADS = {
    "issue_comment": ("issue_comment.created", "issue_comment.created.with-installation",
                      "issue_comment.created.pull-request"),
    "pull_request": ("pull_request.opened", "pull_request.opened.with-null-body", "pull_request.reopened",
                     "pull_request.synchronize"),
    "check_run": ("check_run.rerequested",),
    "check_suite": ("check_suite.rerequested",),
}  # fmt: skip
RAW = {name: (FIXTURES / f"{name}.json").read_bytes() for names in PAYLOADS.values() for name in names}


@dataclass(frozen=True)
class Rule:
    kind: type  # the JSON type: dict, list, str, int
    nullable: bool = False
    required: bool = True


_REPO = {("repository",): Rule(dict), ("repository", "full_name"): Rule(str),
         ("repository", "clone_url"): Rule(str), ("repository", "default_branch"): Rule(str),
         ("installation",): Rule(dict, required=False), ("installation", "id"): Rule(int)}  # fmt: skip
_PULL = ("pull_request",)
READ: dict[str, dict[Path, Rule]] = {
    "issue_comment": {
        **_REPO, ("comment",): Rule(dict), ("comment", "id"): Rule(int), ("comment", "body"): Rule(str),
        ("comment", "user"): Rule(dict, nullable=True), ("comment", "user", "login"): Rule(str),
        ("comment", "user", "type"): Rule(str, required=False), ("issue",): Rule(dict),
        ("issue", "number"): Rule(int), ("issue", "title"): Rule(str),
        ("issue", "pull_request"): Rule(dict, required=False),
    },
    "pull_request": {
        **_REPO, _PULL: Rule(dict), (*_PULL, "number"): Rule(int), (*_PULL, "state"): Rule(str),
        (*_PULL, "title"): Rule(str), (*_PULL, "body"): Rule(str, nullable=True),
        (*_PULL, "user"): Rule(dict, nullable=True), (*_PULL, "user", "login"): Rule(str),
        (*_PULL, "head"): Rule(dict), (*_PULL, "head", "ref"): Rule(str), (*_PULL, "head", "sha"): Rule(str),
        (*_PULL, "head", "repo"): Rule(dict, nullable=True), (*_PULL, "head", "repo", "full_name"): Rule(str),
        (*_PULL, "head", "repo", "clone_url"): Rule(str), (*_PULL, "base"): Rule(dict),
        (*_PULL, "base", "ref"): Rule(str), (*_PULL, "base", "sha"): Rule(str),
        ("sender",): Rule(dict), ("sender", "login"): Rule(str),
    },
    "check_run": {
        **_REPO, ("check_run",): Rule(dict), ("check_run", "id"): Rule(int),
        ("check_run", "head_sha"): Rule(str), ("check_run", "app"): Rule(dict, nullable=True),
        ("check_run", "check_suite"): Rule(dict), ("check_run", "pull_requests"): Rule(list),
        ("check_run", "check_suite", "head_branch"): Rule(str, nullable=True, required=False),
    },
    "check_suite": {
        **_REPO, ("check_suite",): Rule(dict), ("check_suite", "head_sha"): Rule(str),
        ("check_suite", "head_branch"): Rule(str, nullable=True), ("check_suite", "app"): Rule(dict),
        ("check_suite", "app", "id"): Rule(int, nullable=True), ("check_suite", "pull_requests"): Rule(list),
    },
}  # fmt: skip


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every path into a decoded JSON value (arrays: their first three items)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


ALL_PATHS = {name: tuple(paths(orjson.loads(raw))) for name, raw in RAW.items()}
_DELETE = object()
# Characters that matter to some check (quotes, escapes, controls, separators, non-ASCII, astral);
# a fixed alphabet draws far faster than any code point (and JSON cannot carry a lone surrogate).
_CHARS = list("aZ09-_./@:[]{}~^*?\\'\" \t\r\n\x00\x7fé€𝄞\u200b\ufeff<>&`|#=")
TEXT = st.text(st.sampled_from(_CHARS), max_size=40)
_HUGE = st.builds(lambda char, size: char * size, st.sampled_from("aé@<-/.1 \x00"),
                  st.sampled_from([41, 101, 256, 4097, 65_537, 70_000]))  # fmt: skip
VALUES = st.one_of(
    st.just(_DELETE), st.none(), st.booleans(),
    st.integers(-(2**70), 2**70), st.sampled_from([0, -1, 1, 2**63, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False), TEXT, _HUGE,
    st.sampled_from(["", "null", "@octocat", "<img src=x>", "ext::sh -c id", "git@github.com:o/r.git",
                     "https://user:pw@github.com/o/r.git", "file:///etc", "a..b", "main.lock", "HEAD",
                     "-rf", "Codertocat", "renovate[bot]", "0" * 40, "g" * 40, "é" * 40]),
    st.lists(st.integers(), max_size=3), st.dictionaries(TEXT, st.integers(), max_size=3),
)  # fmt: skip


@dataclass(frozen=True)
class Mutation:
    path: Path
    value: Any  # _DELETE for a deletion

    @property
    def deleted(self) -> bool:
        return self.value is _DELETE


def apply(data: dict[str, Any], mutation: Mutation) -> bool:
    """Apply `mutation` in place; False when its path no longer exists (an earlier one removed it)."""
    parent: Any = data
    for key in mutation.path[:-1]:
        try:
            parent = parent[key]
        except (KeyError, IndexError, TypeError):
            return False
    last = mutation.path[-1]
    if not isinstance(parent, dict | list) or (isinstance(parent, list) and not isinstance(last, int)):
        return False
    if isinstance(parent, dict) and (isinstance(last, int) or last not in parent):
        return False
    if isinstance(parent, list) and int(last) >= len(parent):
        return False
    if mutation.deleted:
        del parent[last]  # type: ignore[arg-type]
    else:
        parent[last] = mutation.value  # type: ignore[index]
    return True


def violates(rule: Rule, mutation: Mutation) -> bool:
    """Whether the mutated value breaks what GitHub's schema says of the field."""
    if mutation.deleted:
        return rule.required
    value = mutation.value
    if value is None:
        return not rule.nullable
    if rule.kind is int:
        return isinstance(value, bool) or not isinstance(value, int)
    return not isinstance(value, rule.kind)


# Half the mutations hit a field the handlers read, half any field of the payload.
_POOLS = {name: (*READ[event], *ALL_PATHS[name]) for event, names in PAYLOADS.items() for name in names}


@st.composite
def mutated(
    draw: st.DrawFn, event: str, bodies: st.SearchStrategy[str]
) -> tuple[dict[str, Any], list[Mutation]]:
    """A payload of `event` (a comment's body from `bodies`) with up to three mutations applied."""
    name = PAYLOADS[event][draw(st.integers(0, len(PAYLOADS[event]) - 1))]
    data: dict[str, Any] = orjson.loads(RAW[name])
    if event == "issue_comment":
        data["comment"]["body"] = draw(bodies)
    read, pool = len(READ[event]), _POOLS[name]
    done: list[Mutation] = []
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, read - 1)) if draw(st.booleans()) else draw(st.integers(0, len(pool) - 1))
        mutation = Mutation(pool[index], draw(VALUES))
        if apply(data, mutation):
            done.append(mutation)
    return data, done


def dumps(data: Any) -> bytes:
    """JSON as a client would send it; the standard library for integers beyond orjson's 64 bits."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data).encode()


_REQUESTED = st.builds(
    lambda name, version, variant: f"{name}=={version}{variant}",
    st.sampled_from(["a", "sglang", "A.b-c_d", "torch", "-x", "a b", "", "x" * 257]),
    st.sampled_from(["1", "0.5.10", "2.10.0rc1", "2.9.1+cu129", "not-a-version", "", "1" * 300]),
    st.sampled_from(["", "@vllm", "@", "@-x", "@all"]),
)
_PIECE = st.one_of(
    _REQUESTED,
    st.sampled_from(["--image-tag", "v0.5.11-cu130-runtime", "--allow-downgrade", "help", "revert", "--bogus",
                     "@octocat", "@all", "<b>x</b>", "<!-- x -->", "'", '"', "\\", "`", "``", "|", "*", "_",
                     "a==1", "a==1@", "==1", "a==", "sglang==0.5.10", "a==1 a==1"]),
    st.text(st.sampled_from(_CHARS), max_size=12),
    st.builds(lambda char, size: char * size, st.sampled_from("a= '\"\\@<"),
              st.sampled_from([256, 257, 5_000])),
)  # fmt: skip
# What follows `/upgrade-deps`, as a person (or someone hostile) might type it.
COMMAND_LINES = st.builds(lambda words, sep: sep.join(words), st.lists(_PIECE, max_size=8),
                          st.sampled_from([" ", "  ", "\t", " '", ' "', "\\ "]))  # fmt: skip
BODIES = st.one_of(
    st.builds(lambda line, tail: f"/upgrade-deps {line}{tail}", COMMAND_LINES,
              st.sampled_from(["", "\nthanks", "\r\n@all <b>"])),
    TEXT, st.just("/upgrade-deps"),
    st.builds(lambda size: "/upgrade-deps " + "a" * size, st.sampled_from([256, 257, 65_000])),
    st.builds(lambda size: "x" * size, st.sampled_from([65_536, 65_537])),
)  # fmt: skip
