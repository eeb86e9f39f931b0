"""Regenerate openapi-subset.json: the operations the bot uses, cut from Discord's OpenAPI spec.

Run from the repository root after adding an operation to ``OPERATIONS``::

    python -m tests.discord_double.trim_spec FULL_SPEC

FULL_SPEC is Discord's whole ``openapi.json``. Each listed operation is copied
unchanged, with every component its ``$ref``s reach (transitively), so the subset validates exactly
as the full spec does for those operations.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SUBSET_PATH = HERE / "openapi-subset.json"
METHODS = ("get", "put", "post", "patch", "delete")
EVERY = METHODS  # every method the spec has for that path

# The one list of what the subset holds: path template -> methods. Application commands and
# interaction responses are whole, so new command types (message context menus) and new
# callback types (updating a message from a button) validate without regenerating.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "/users/@me": ("get",),
    "/oauth2/applications/@me": ("get",),
    "/gateway": ("get",),
    "/gateway/bot": ("get",),
    "/applications/{application_id}/commands": EVERY,
    "/applications/{application_id}/commands/{command_id}": EVERY,
    "/applications/{application_id}/guilds/{guild_id}/commands": EVERY,
    "/applications/{application_id}/guilds/{guild_id}/commands/permissions": EVERY,
    "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}": EVERY,
    "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}/permissions": EVERY,
    "/channels/{channel_id}/messages": EVERY,
    "/channels/{channel_id}/messages/{message_id}": EVERY,
    "/channels/{channel_id}/messages/{message_id}/threads": EVERY,
    "/channels/{channel_id}/typing": EVERY,
    "/interactions/{interaction_id}/{interaction_token}/callback": EVERY,
    "/webhooks/{webhook_id}/{webhook_token}": ("post",),
    "/webhooks/{webhook_id}/{webhook_token}/messages/@original": EVERY,
    "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}": EVERY,
}


def refs(node: Any) -> Iterator[str]:
    """Yield every ``$ref`` string inside a JSON value."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def component(spec: dict[str, Any], ref: str) -> tuple[str, str]:
    """Return (kind, name) for a '#/components/KIND/NAME' reference, or fail naming it."""
    parts = ref.split("/")
    if (
        len(parts) != 4
        or parts[:2] != ["#", "components"]
        or parts[3] not in spec["components"].get(parts[2], {})
    ):
        raise SystemExit(f"unresolvable $ref {ref!r} in the spec")
    return parts[2], parts[3]


def trim(spec: dict[str, Any], operations: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Return the spec reduced to ``operations`` and the components they reach."""
    paths: dict[str, Any] = {}
    for template, methods in operations.items():
        item = spec["paths"].get(template)
        if item is None:
            raise SystemExit(f"{template} is not a path of the spec")
        missing = [] if methods is EVERY else [m for m in methods if m not in item]
        if missing:
            raise SystemExit(f"{template} has no {', '.join(missing)} in the spec")
        paths[template] = {k: v for k, v in item.items() if k not in METHODS or k in methods}
    reached: set[tuple[str, str]] = set()
    pending = list(refs(paths))
    while pending:
        kind, name = component(spec, pending.pop())
        if (kind, name) not in reached:
            reached.add((kind, name))
            pending.extend(refs(spec["components"][kind][name]))
    components: dict[str, Any] = {}
    for kind, entries in spec["components"].items():
        # Security schemes are named by operations' "security", not by $ref: keep them all.
        kept = {
            n: v for n, v in entries.items() if kind == "securitySchemes" or (kind, n) in reached
        }
        if kept:
            components[kind] = kept
    top = {k: v for k, v in spec.items() if k not in {"paths", "components"}}
    return {**top, "paths": paths, "components": components}


def main(argv: list[str] | None = None) -> int:
    """Write the subset next to this script and say what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("full_spec", type=Path, help="Discord's whole openapi.json")
    args = parser.parse_args(argv)
    if not args.full_spec.is_file():
        print(f"error: the full spec {args.full_spec} does not exist", file=sys.stderr)
        return 2
    raw = args.full_spec.read_bytes()
    subset = trim(json.loads(raw), OPERATIONS)
    subset["x-qabot-subset"] = {
        "source": "https://github.com/discord/discord-api-spec specs/openapi.json",
        "sha256": hashlib.sha256(raw).hexdigest(),
        "regenerate": "python -m tests.discord_double.trim_spec FULL_SPEC",
    }
    SUBSET_PATH.write_text(
        json.dumps(subset, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    count = sum(1 for item in subset["paths"].values() for m in item if m in METHODS)
    schemas = len(subset["components"].get("schemas", {}))
    print(f"wrote {SUBSET_PATH.name}: {count} operations, {schemas} schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
