"""The double's OpenAPI subset: what it holds, that it stands alone, and that it still validates."""

from __future__ import annotations

from typing import Any

from tests.discord_double import payloads as p
from tests.discord_double.spec import load_spec
from tests.discord_double.trim_spec import EVERY, METHODS, OPERATIONS, refs

APP = p.snowflake()
GUILD = p.snowflake()
CHANNEL = p.snowflake()


def test_the_subset_holds_exactly_the_listed_operations() -> None:
    """Regenerating from OPERATIONS is the only way the subset changes."""
    paths = load_spec().document["paths"]
    assert set(paths) == set(OPERATIONS)
    for template, methods in OPERATIONS.items():
        present = {m for m in paths[template] if m in METHODS}
        assert present if methods is EVERY else present == set(methods), template


def test_every_reference_resolves_inside_the_subset() -> None:
    """No $ref points at a schema the trim left out."""
    document = load_spec().document
    for ref in set(refs(document)):
        _, _, kind, name = ref.split("/")
        assert name in document["components"][kind], ref


def test_a_message_context_menu_command_validates() -> None:
    """A "Save as answer" command on messages (type 3) is a valid command registration."""
    commands: list[dict[str, Any]] = [
        {"name": "ask", "description": "Ask", "type": 1},
        {"name": "Save as answer", "type": 3},
    ]
    spec = load_spec()
    assert spec.errors("PUT", f"/applications/{APP}/commands", commands) == []
    guild_path = f"/applications/{APP}/guilds/{GUILD}/commands"
    assert spec.errors("PUT", guild_path, commands) == []
    assert spec.errors("PUT", guild_path, [{"name": "Save as answer", "type": "menu"}])


def test_a_paging_button_can_update_its_message() -> None:
    """Answering a button press by editing its message (type 7) validates; a bad type does not."""
    row = {"type": 1, "components": [{"type": 2, "style": 2, "label": "Next", "custom_id": "p:2"}]}
    body = {"type": 7, "data": {"content": "page 2", "components": [row]}}
    path = f"/interactions/{p.snowflake()}/token/callback"
    spec = load_spec()
    assert spec.errors("POST", path, body) == []
    assert spec.errors("POST", path, {"type": 6}) == []
    assert spec.errors("POST", path, {"type": "update"})


def test_a_route_outside_the_subset_says_how_to_add_it() -> None:
    """An operation the subset lacks is reported with the file to edit."""
    errors = load_spec().errors("POST", f"/channels/{CHANNEL}/messages/bulk-delete", {})
    assert len(errors) == 1
    assert "trim_spec.py" in errors[0]
