"""A delivery's headers, checked before its body is read: the signature (401), then the event and id (400)."""

from __future__ import annotations

from dataclasses import dataclass

from gidgethub import ValidationFailure
from gidgethub.sansio import validate_event
from multidict import CIMultiDictProxy

from bot.errors import PayloadError
from bot.service.shapes import DELIVERY, EVENT, SIGNATURE

SIGNATURE_HEADER = "X-Hub-Signature-256"


@dataclass(frozen=True)
class Delivery:
    event: str  # X-GitHub-Event
    id: str  # X-GitHub-Delivery: the same for a redelivery


def signature_problem(headers: CIMultiDictProxy[str], body: bytes, secret: str) -> str | None:
    """Why the delivery is not signed with `secret`; None when it is. Any header bytes are an answer here.

    The shape is checked first: gidgethub compares with `hmac.compare_digest`, which raises on a
    non-ASCII string, and would also take a `sha1=` signature.
    """
    values = headers.getall(SIGNATURE_HEADER, [])
    if not values:
        return f"missing {SIGNATURE_HEADER}"
    if len(values) > 1:
        return f"more than one {SIGNATURE_HEADER}"
    if SIGNATURE.fullmatch(values[0]) is None:
        return f"{SIGNATURE_HEADER} is not sha256=<64 lowercase hex digits>"
    try:
        validate_event(body, signature=values[0], secret=secret)
    except ValidationFailure:
        return "signature does not match"
    return None


def delivery_of(headers: CIMultiDictProxy[str]) -> Delivery:
    """The event name and delivery id, each present once and of the shape GitHub gives it."""
    event = _one(headers, "X-GitHub-Event")
    delivery = _one(headers, "X-GitHub-Delivery")
    if EVENT.fullmatch(event) is None:
        raise PayloadError("X-GitHub-Event is not an event name (a-z and _, at most 64)")
    if DELIVERY.fullmatch(delivery) is None:
        raise PayloadError("X-GitHub-Delivery is not a delivery id (letters, digits, . _ -, at most 100)")
    return Delivery(event, delivery)


def _one(headers: CIMultiDictProxy[str], name: str) -> str:
    values = headers.getall(name, [])
    if len(values) != 1:
        raise PayloadError(f"{'missing' if not values else 'more than one'} {name} header")
    return values[0]
