"""Validate request bodies against Discord's official OpenAPI spec (the subset the bot uses)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from tests.discord_double.trim_spec import SUBSET_PATH


@dataclass(frozen=True)
class Operation:
    """One path template and method from the spec, with a regex for concrete paths."""

    template: str
    method: str
    pattern: re.Pattern[str]
    params: int


class OpenAPISpec:
    """Finds the operation for a request and validates its JSON body."""

    def __init__(self, path: Path = SUBSET_PATH) -> None:
        self.path = path
        self.document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        # Discord's docs (which win over the spec, see SOURCE.md) accept snowflakes in request
        # bodies as integers too, and discord.py sends message_reference ids as integers.
        schemas = self.document["components"]["schemas"]
        schemas["SnowflakeType"] = {
            "anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]
        }
        self.operations: list[Operation] = []
        for template, item in self.document["paths"].items():
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            for method in item:
                if method in {"get", "put", "post", "patch", "delete"}:
                    self.operations.append(
                        Operation(
                            template, method.upper(), re.compile(f"^{regex}$"), template.count("{")
                        )
                    )
        # Literal segments win over parameters: /users/@me before /users/{user_id}.
        self.operations.sort(key=lambda op: op.params)
        self._validators: dict[tuple[str, str], Draft202012Validator | None] = {}

    def operation(self, method: str, path: str) -> Operation | None:
        """Return the operation that a request to ``path`` (relative to /api/v10) performs."""
        for op in self.operations:
            if op.method == method and op.pattern.match(path):
                return op
        return None

    def validator(self, op: Operation) -> Draft202012Validator | None:
        """Return a validator for the operation's JSON request body, or None when it has none."""
        key = (op.method, op.template)
        if key not in self._validators:
            body = self.document["paths"][op.template][op.method.lower()].get("requestBody")
            schema = body and body.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                self._validators[key] = None
            else:
                # '#/components/...' refs resolve against this root, so give it the components.
                root = {**schema, "components": self.document["components"]}
                self._validators[key] = Draft202012Validator(root)
        return self._validators[key]

    def errors(self, method: str, path: str, body: Any) -> list[str]:
        """Return what is wrong with a request: an unknown route or a body the spec rejects."""
        op = self.operation(method, path)
        if op is None:
            return [
                f"{method} {path} is not in the Discord OpenAPI spec subset "
                "(add it to OPERATIONS in tests/discord_double/trim_spec.py and regenerate)"
            ]
        validator = self.validator(op)
        if validator is None:
            return [] if body is None else [f"{method} {op.template} takes no JSON body"]
        if body is None:
            return [f"{method} {op.template} needs a JSON body"]
        found = []
        for error in validator.iter_errors(body):
            where = "/".join(str(p) for p in error.absolute_path) or "(body)"
            found.append(f"{method} {op.template}: {where}: {error.message[:300]}")
        return found


@functools.cache
def load_spec() -> OpenAPISpec:
    """Return the spec, parsed once per test session."""
    return OpenAPISpec()
