"""Discord objects as the API and gateway send them (the documented shapes, trimmed)."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
_counter = itertools.count(1)

VIEW_AND_SEND = 0x400 | 0x800 | 0x10000 | 0x40 | 0x4000 | 0x8000 | 0x80000000000 | 0x4000000000
MANAGE_GUILD = 0x20


def snowflake() -> int:
    """Return a new, increasing snowflake id."""
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_counter) & 0x3FFFFF)


def now_iso() -> str:
    """Return the current time as Discord formats timestamps."""
    return datetime.now(UTC).isoformat()


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    """Return a user object."""
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


def member(
    user_obj: dict[str, Any], roles: list[int], permissions: int | None = None
) -> dict[str, Any]:
    """Return a guild member object, with computed permissions when given (interactions)."""
    data: dict[str, Any] = {
        "user": user_obj,
        "roles": [str(r) for r in roles],
        "nick": None,
        "avatar": None,
        "joined_at": now_iso(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def role(role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
    """Return a role object."""
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": True,
        "flags": 0,
    }


def text_channel(channel_id: int, guild_id: int, name: str, position: int) -> dict[str, Any]:
    """Return a guild text channel object."""
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def thread(
    thread_id: int, guild_id: int, parent_id: int, owner_id: int, name: str, archive: int
) -> dict[str, Any]:
    """Return a public thread channel object."""
    return {
        "id": str(thread_id),
        "type": 11,
        "guild_id": str(guild_id),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "total_message_sent": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": archive,
            "archive_timestamp": now_iso(),
            "locked": False,
            "create_timestamp": now_iso(),
        },
    }


def attachment(attachment_id: int, filename: str) -> dict[str, Any]:
    """Return an attachment object: an uploaded file."""
    return {
        "id": str(attachment_id),
        "filename": filename,
        "size": 1024,
        "url": f"https://cdn.discordapp.com/attachments/1/{attachment_id}/{filename}",
        "proxy_url": f"https://media.discordapp.net/attachments/1/{attachment_id}/{filename}",
        "content_type": "image/png",
    }


def message(
    message_id: int,
    channel_id: int,
    author: dict[str, Any],
    content: str,
    *,
    guild_id: int | None = None,
    embeds: list[dict[str, Any]] | None = None,
    components: list[dict[str, Any]] | None = None,
    mentions: list[dict[str, Any]] | None = None,
    reference: dict[str, Any] | None = None,
    referenced: dict[str, Any] | None = None,
    flags: int = 0,
    webhook_id: int | None = None,
    interaction_metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a message object."""
    data: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": embeds or [],
        "components": components or [],
        "pinned": False,
        "type": 19 if reference else 0,
        "flags": flags,
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    if reference:
        data["message_reference"] = reference
        data["referenced_message"] = referenced
    if webhook_id:
        data["webhook_id"] = str(webhook_id)
    if interaction_metadata:
        data["interaction_metadata"] = interaction_metadata
    return data
