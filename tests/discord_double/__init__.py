"""A loopback Discord for tests: REST routes, a gateway websocket and OpenAPI validation."""

from tests.discord_double.server import DiscordDouble, Interaction, Request

__all__ = ["DiscordDouble", "Interaction", "Request"]
