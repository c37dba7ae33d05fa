"""Requests the fake GitHub holds for a test: before applying them, or applied with the answer held."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Hold:
    """One request held: before it is applied, or (`after`) once applied and before it is answered,
    which is where a crash leaves GitHub changed and the client not knowing it."""

    operation_id: str
    after: bool
    when: Callable[[Any], bool]  # which request, by its JSON body
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


class Holds:
    """The holds waiting for their request; each is taken by the first request it matches."""

    def __init__(self) -> None:
        self._waiting: list[Hold] = []

    def add(self, held: Hold) -> Hold:
        self._waiting.append(held)
        return held

    def take(self, operation_id: str, body: Any) -> Hold | None:
        for held in self._waiting:
            if held.operation_id == operation_id and held.when(body):
                self._waiting.remove(held)
                return held
        return None
