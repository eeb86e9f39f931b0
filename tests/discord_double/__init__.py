"""A loopback Discord for tests: REST routes, a gateway websocket and OpenAPI validation."""

from tests.discord_double.server import DiscordDouble, Edit, Interaction, Request

__all__ = ["DiscordDouble", "Edit", "Interaction", "Request"]
