"""Who may run the maintainers' commands: Manage Server, or one of the configured roles."""

from __future__ import annotations

from collections.abc import Iterable

import discord


def is_trusted(user: discord.abc.User, role_ids: Iterable[int]) -> bool:
    """Return True for a server member with Manage Server or one of ``role_ids``."""
    if not isinstance(user, discord.Member):
        return False  # a direct message: no server, no roles
    if user.guild_permissions.manage_guild:
        return True
    allowed = set(role_ids)
    return any(role.id in allowed for role in user.roles)
