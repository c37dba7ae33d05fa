"""Matches requests against GitHub's REST description subset and validates their JSON bodies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

SPEC_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "rest-api-subset.json"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    pattern: re.Pattern[str]
    body_pointer: str | None
    body_required: bool = False


def _pointer(path: str, method: str) -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"#/paths/{escaped}/{method}/requestBody/content/application~1json/schema"


class RestSpec:
    """The operations of the subset; `match` finds one, `problems` lists what is wrong with a body."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.document: dict[str, Any] = json.loads(path.read_text())
        self.operations: list[Operation] = []
        self._validators: dict[str, Draft4Validator] = {}
        for template, item in self.document["paths"].items():
            # {path} of the contents API spans several segments (x-multi-segment in the description).
            regex = re.sub(
                r"\\\{([^}]+)\\\}",
                lambda m: f"(?P<{m.group(1)}>.+)" if m.group(1) == "path" else f"(?P<{m.group(1)}>[^/]+)",
                re.escape(template),
            )
            for method, op in item.items():
                if method not in ("get", "post", "patch", "put", "delete"):
                    continue
                required = bool(op.get("requestBody", {}).get("required", False))
                has_body = "requestBody" in op and "application/json" in op["requestBody"].get("content", {})
                self.operations.append(
                    Operation(
                        method.upper(),
                        template,
                        op["operationId"],
                        re.compile(f"^{regex}$"),
                        _pointer(template, method) if has_body else None,
                        required,
                    )
                )

    def match(self, method: str, path: str) -> Operation | None:
        # Literal segments win over parameters (e.g. /issues/comments/{id} vs /issues/{number}).
        found = [op for op in self.operations if op.method == method and op.pattern.match(path)]
        found.sort(key=lambda op: op.template.count("{"))
        return found[0] if found else None

    def problems(self, operation: Operation, body: Any) -> list[str]:
        if operation.body_pointer is None:
            return [] if body in (None, b"", {}) else [f"{operation.operation_id} takes no body"]
        if body is None:
            return [f"{operation.operation_id}: a JSON body is required"] if operation.body_required else []
        validator = self._validators.get(operation.body_pointer)
        if validator is None:
            validator = Draft4Validator({**self.document, "$ref": operation.body_pointer})
            self._validators[operation.body_pointer] = validator
        return [
            f"{operation.operation_id}: {'/'.join(map(str, e.path))}: {e.message}"
            for e in validator.iter_errors(body)
        ]
