"""Fuzzed deliveries through the real endpoint: never a 5xx or a traceback, never a job from bad input."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.service import jobspec
from tests.conftest import examples
from tests.fuzz.conftest import Endpoint
from tests.fuzz.mutations import BODIES, HANDLED, RAW, READ, Mutation, dumps, mutated, violates
from tests.support.webhooks import SECRET, headers

# One endpoint serves every example of a test; each example looks only at what it added. Each
# delivery goes through HTTP on loopback, so these tests take 0.7 of the profile's examples each.
FUZZ = settings(max_examples=examples(0.7), suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip


def _handled(event: str, data: dict[str, Any]) -> bool:
    actions = HANDLED[event]
    return data.get("action") in ((actions,) if isinstance(actions, str) else actions)


async def deliver(endpoint: Endpoint, event: str, data: dict[str, Any], mutations: list[Mutation]) -> None:
    body = dumps(data)
    status, answer = await endpoint.post(body, headers(event, body, delivery=endpoint.delivery()))
    rows = endpoint.new_rows()
    assert status in (200, 202, 400), (status, answer, mutations)
    assert not endpoint.problems.records, [record.getMessage() for record in endpoint.problems.records]
    if status != 202:
        assert rows == [], (status, mutations)
    if status == 400:
        assert len(answer["message"]) < 300 and "Traceback" not in answer["message"], answer
    if status == 202:
        assert len(rows) == len(answer["jobs"]) == 1, (answer, rows)
        [(kind, text)] = rows
        spec = jobspec.loads(kind, text)  # every stored field has the shape the edge promises
        assert spec.target.repo == data["repository"]["full_name"]
        assert spec.target.installation == data["installation"]["id"]
    if len(mutations) == 1 and _handled(event, data):
        rule = READ[event].get(mutations[0].path)
        if rule is not None and violates(rule, mutations[0]):
            assert status == 400, (mutations, answer)
    action = data.get("action")
    if action is not None and not isinstance(action, str):
        assert status == 400, answer


@FUZZ
@given(case=mutated("issue_comment", BODIES))
async def test_issue_comments(endpoint: Endpoint, case: tuple[dict[str, Any], list[Mutation]]) -> None:
    await deliver(endpoint, "issue_comment", *case)


@FUZZ
@given(case=mutated("pull_request", BODIES))
async def test_pull_requests(endpoint: Endpoint, case: tuple[dict[str, Any], list[Mutation]]) -> None:
    await deliver(endpoint, "pull_request", *case)


@FUZZ
@given(event=st.sampled_from(["check_run", "check_suite"]), data=st.data())
async def test_check_reruns(endpoint: Endpoint, event: str, data: st.DataObject) -> None:
    payload, mutations = data.draw(mutated(event, BODIES))
    if event == "check_run" and mutations == []:
        payload["check_run"]["app"]["id"] = 29310  # ours, so that the unmutated delivery makes a job
    await deliver(endpoint, event, payload, mutations)


_HEADER_TEXT = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=120)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=3),
                     max_leaves=8)  # fmt: skip
_BODY = st.one_of(st.sampled_from(sorted(RAW.values())), st.binary(max_size=300), _JSON.map(dumps))
_EVENT = st.sampled_from(["ping", "issue_comment", "pull_request", "check_run", "check_suite",
                          "installation", "push", "Issue_Comment", ""]) | _HEADER_TEXT  # fmt: skip
_DELIVERY = (
    st.sampled_from(["", "a/1", "-x", "x" * 101, "72d3162e-cc78-11e3-81ab-4c9367dc0958"]) | _HEADER_TEXT
)


@FUZZ
@given(body=_BODY, event=_EVENT, delivery=_DELIVERY, junk=_HEADER_TEXT,
       how=st.sampled_from(["right", "wrong", "junk", "prefixed", "none"]))  # fmt: skip
async def test_headers_and_signatures(
    endpoint: Endpoint, body: bytes, event: str, delivery: str, how: str, junk: str
) -> None:
    right = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    signature = {"right": right, "wrong": "sha256=" + "0" * 64, "junk": junk, "prefixed": "sha256=" + junk,
                 "none": None}[how]  # fmt: skip
    hdrs = {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery}
    if signature is not None:
        hdrs["X-Hub-Signature-256"] = signature
    status, answer = await endpoint.post(body, hdrs)
    rows = endpoint.new_rows()
    assert not endpoint.problems.records, [record.getMessage() for record in endpoint.problems.records]
    if signature != right:
        assert status == 401 and rows == [], (status, answer)
        return
    assert status in (200, 202, 400), (status, answer)
    assert len(rows) == (len(answer["jobs"]) if status == 202 else 0), (status, answer)
    assert all(jobspec.loads(kind, text) for kind, text in rows)
