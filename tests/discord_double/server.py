"""A loopback Discord: the REST routes the bot uses and a gateway websocket, on 127.0.0.1 only.

Every request body is validated against Discord's OpenAPI spec; violations are collected in
``spec_errors`` (and answered with a 400, as Discord would) so tests can assert there are none.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from tests.discord_double import payloads as p
from tests.discord_double.spec import OpenAPISpec, load_spec

API_PREFIX = "/api/v10"
HOST = "127.0.0.1"  # the double never listens on another interface
HEARTBEAT_MS = 41250
ATTACHMENT_LIMIT = 8 * 1024 * 1024
EPHEMERAL = 64
RECEIVED_AT = web.RequestKey("received_at", float)  # perf_counter when a request arrived
T = TypeVar("T")
Handler = Callable[[web.Request, dict[str, str], Any], Awaitable[web.StreamResponse]]


# Gateway payloads the client sends, by opcode: required keys of "d" and their types, as in
# https://discord.com/developers/docs/events/gateway-events (the OpenAPI spec has no gateway).
CLIENT_OPS: dict[int, dict[str, type | tuple[type, ...]]] = {
    1: {},  # HEARTBEAT: d is the last sequence number or null
    2: {"token": str, "properties": dict, "intents": int},  # IDENTIFY
    3: {"since": (int, type(None)), "activities": list, "status": str, "afk": bool},
    6: {"token": str, "session_id": str, "seq": (int, type(None))},  # RESUME
    8: {"guild_id": (str, int)},  # REQUEST_GUILD_MEMBERS
}


def gateway_shape_errors(payload: Any) -> list[str]:
    """Return what is wrong with a payload the client sent on the gateway."""
    if not isinstance(payload, dict) or not isinstance(payload.get("op"), int):
        return [f"gateway payload without an integer op: {payload!r:.200}"]
    op = payload["op"]
    if op not in CLIENT_OPS:
        return [f"op {op} is not one a client sends"]
    data = payload.get("d")
    if op == 1:
        return [] if data is None or isinstance(data, int) else [f"HEARTBEAT d={data!r}"]
    if not isinstance(data, dict):
        return [f"op {op} needs an object in d"]
    errors = []
    for key, kind in CLIENT_OPS[op].items():
        if key not in data or not isinstance(data[key], kind):
            errors.append(f"op {op}: {key} missing or not {kind}")
    if op == 2 and not {"os", "browser", "device"} <= set(data.get("properties") or {}):
        errors.append("IDENTIFY properties need os, browser and device")
    if op == 2 and "shard" in data:
        shard = data["shard"]
        valid = (
            isinstance(shard, list)
            and len(shard) == 2
            and all(isinstance(n, int) for n in shard)
            and 0 <= shard[0] < shard[1]
        )
        if not valid:
            errors.append(f"IDENTIFY shard must be [shard_id, num_shards], got {shard!r}")
    return errors


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Return JSON with Content-Type exactly application/json, which discord.py requires."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass
class Request:
    """A REST request the bot made, as received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float
    status: int = 0


@dataclass
class Edit:
    """An edit the bot made to one of its messages: which, when it arrived, and the body."""

    message_id: int
    at: float
    body: dict[str, Any]


@dataclass
class Interaction:
    """An interaction the double dispatched, and what the bot answered."""

    id: int
    token: str
    type: int
    channel_id: int
    user_id: int
    message_id: int | None = None  # the message a clicked component is on
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Return every message of the response: callback messages then follow-ups."""
        made = [c["message"] for c in self.callbacks if c.get("message")]
        return made + self.followups


@dataclass
class RateLimitRule:
    """Answer the next matching request with 429 and this retry_after."""

    method: str
    pattern: re.Pattern[str]
    retry_after: float
    remaining: int = 1
    status: int = 429  # or, say, 403 to refuse the request outright


class DiscordDouble:
    """An aiohttp server that plays Discord for one bot, one guild and a few users."""

    def __init__(self, token: str = "test-token", spec: OpenAPISpec | None = None) -> None:
        self.token = token
        self.spec = spec or load_spec()
        self.app_id = p.snowflake()
        self.bot_user = p.user(self.app_id, "qabot", bot=True)
        self.guild_id = p.snowflake()
        self.moderator_role = p.snowflake()  # has Manage Server
        self.helper_role = p.snowflake()  # no special permission
        self.channel_id = p.snowflake()  # general
        self.other_channel_id = p.snowflake()  # off-limits in most tests
        self.users = {
            name: p.user(p.snowflake(), name, bot=name == "otherbot")
            for name in ("alice", "bob", "mod", "otherbot")
        }
        self.roles = {
            self.users["mod"]["id"]: [self.moderator_role],
            self.users["bob"]["id"]: [self.helper_role],
        }
        self.channels: dict[int, dict[str, Any]] = {
            self.channel_id: p.text_channel(self.channel_id, self.guild_id, "general", 0),
            self.other_channel_id: p.text_channel(
                self.other_channel_id, self.guild_id, "random", 1
            ),
        }
        self.dm_channel_id = p.snowflake()  # alice's direct messages with the bot
        self.channels[self.dm_channel_id] = {
            "id": str(self.dm_channel_id),
            "type": 1,
            "last_message_id": None,
            "recipients": [self.users["alice"]],
            "flags": 0,
        }
        self.deleted_channels: dict[int, dict[str, Any]] = {}  # still named by late interactions
        self.messages: dict[int, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []  # messages the bot created, in order
        self.created_at: dict[int, float] = {}  # message id -> perf_counter when received
        self.edits: list[Edit] = []  # PATCHes of the bot's messages, in arrival order
        self.dispatched_at: dict[int, float] = {}  # user message id -> perf_counter dispatched
        self.requests: list[Request] = []
        self.spec_errors: list[str] = []
        self.unknown_routes: list[str] = []
        self.interactions: dict[str, Interaction] = {}
        self.commands: dict[str, dict[str, Any]] = {}
        self.rate_limits: list[RateLimitRule] = []
        self.resume_gateway_url = ""  # what READY names for resuming; empty = the gateway itself
        self.heartbeat_ms = HEARTBEAT_MS
        self.heartbeats: list[float] = []  # perf_counter of each heartbeat received
        self.gateway_errors: list[str] = []  # payloads that break Discord's documented shapes
        self.identify_payloads: list[dict[str, Any]] = []
        self.shard_count = 1  # shards GET /gateway/bot recommends
        self.shard_sockets: dict[int, web.WebSocketResponse] = {}  # shard id -> its connection
        self.identifies = 0
        self.resumes = 0
        self.session_id = ""
        self.sequence = 0
        self.backlog: list[dict[str, Any]] = []  # dispatches of this session, for RESUME
        self.ws: web.WebSocketResponse | None = None
        self.ready = asyncio.Event()
        self.changed = asyncio.Condition()
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self._route_table()

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:<port>."""
        return f"http://{HOST}:{self.port}"

    @property
    def api_base(self) -> str:
        """Return the REST base to configure as discord.api_base."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Return the gateway URL to configure as discord.gateway_url."""
        return f"ws://{HOST}:{self.port}/gateway"

    async def start(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.rest)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, HOST, 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the gateway and stop listening."""
        if self.ws is not None and not self.ws.closed:
            await self.ws.close(code=1001)
        if self.runner is not None:
            await self.runner.cleanup()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0) -> T:
        """Wait until ``predicate()`` returns something truthy and return it."""

        async def until() -> T:
            async with self.changed:
                while not (result := predicate()):
                    await self.changed.wait()
                return result

        return await asyncio.wait_for(until(), timeout)

    async def touch(self) -> None:
        """Wake everyone waiting in wait_for."""
        async with self.changed:
            self.changed.notify_all()

    # --- gateway ----------------------------------------------------------------------------

    async def send(self, ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        """Send one gateway payload as JSON text."""
        await ws.send_str(json.dumps(payload))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH to the bot now, or keep it for the RESUME when it is disconnected."""
        self.sequence += 1
        payload = {"op": 0, "t": event, "s": self.sequence, "d": data}
        self.backlog.append(payload)
        if self.ws is not None and not self.ws.closed:
            await self.send(self.ws, payload)

    async def gateway(self, request: web.Request) -> web.StreamResponse:
        """Serve one gateway connection: HELLO, IDENTIFY or RESUME, heartbeats, dispatches."""
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        hello = {"heartbeat_interval": self.heartbeat_ms}
        await self.send(ws, {"op": 10, "d": hello, "s": None, "t": None})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            op = data.get("op")
            self.gateway_errors.extend(gateway_shape_errors(data))
            if op == 1:
                self.heartbeats.append(time.perf_counter())
                await self.send(ws, {"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                await self.identify(ws, data["d"])
            elif op == 6:
                await self.resume(ws, data["d"])
        if self.ws is ws:
            self.ws = None
        return ws

    async def identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        """Start a session: READY with the guild unavailable, then GUILD_CREATE."""
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies += 1
        self.identify_payloads.append(data)
        shard_id, shard_count = data.get("shard") or (0, 1)
        self.shard_sockets[shard_id] = ws
        if shard_id != (self.guild_id >> 22) % shard_count:
            await self.ready_without_guild(ws, [shard_id, shard_count])
            return
        self.session_id = secrets.token_hex(16)
        self.sequence = 0
        self.backlog = []
        self.ws = ws
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": {**self.bot_user, "verified": True, "mfa_enabled": False},
                "guilds": [{"id": str(self.guild_id), "unavailable": True}],
                "session_id": self.session_id,
                "session_type": "normal",
                "resume_gateway_url": self.resume_gateway_url or self.gateway_url,
                "application": {"id": str(self.app_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                **({"shard": [shard_id, shard_count]} if "shard" in data else {}),
            },
        )
        await self.dispatch("GUILD_CREATE", self.guild_payload())
        self.ready.set()
        await self.touch()

    async def ready_without_guild(self, ws: web.WebSocketResponse, shard: list[int]) -> None:
        """Send READY to a shard that does not own the guild: its own session, no guilds."""
        data = {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False},
            "guilds": [],
            "session_id": secrets.token_hex(16),
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url or self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "shard": shard,
        }
        await self.send(ws, {"op": 0, "t": "READY", "s": 1, "d": data})
        await self.touch()

    async def resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        """Replay what the bot missed since its last sequence number, then RESUMED."""
        if data.get("token") != self.token or data.get("session_id") != self.session_id:
            await self.send(ws, {"op": 9, "d": False, "s": None, "t": None})
            return
        self.resumes += 1
        self.ws = ws
        missed = [e for e in self.backlog if e["s"] > (data.get("seq") or 0)]
        for payload in missed:
            await self.send(ws, payload)
        await self.dispatch("RESUMED", {})
        await self.touch()

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the bot's gateway connection from the server side, as Discord sometimes does."""
        ws, self.ws = self.ws, None
        if ws is not None:
            await ws.close(code=code, message=b"dropped by the double")

    def guild_payload(self) -> dict[str, Any]:
        """Return the GUILD_CREATE payload: roles, channels, the bot's member, no threads."""
        everyone = p.role(self.guild_id, "@everyone", p.VIEW_AND_SEND, 0)
        moderator = p.role(self.moderator_role, "Moderator", p.VIEW_AND_SEND | p.MANAGE_GUILD, 1)
        helper = p.role(self.helper_role, "Helper", p.VIEW_AND_SEND, 2)
        return {
            "id": str(self.guild_id),
            "name": "Test Guild",
            "icon": None,
            "owner_id": str(p.snowflake()),
            "region": "us-west",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [everyone, moderator, helper],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": p.now_iso(),
            "large": False,
            "unavailable": False,
            "member_count": 5,
            "voice_states": [],
            "members": [p.member(self.bot_user, [])],
            "channels": [c for c in self.channels.values() if c["type"] == 0],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # --- what users do ----------------------------------------------------------------------

    def member_permissions(self, user_id: str) -> int:
        """Return a member's guild permissions from their roles."""
        perms = p.VIEW_AND_SEND
        if self.moderator_role in self.roles.get(user_id, []):
            perms |= p.MANAGE_GUILD
        return perms

    async def user_message(
        self,
        channel_id: int,
        content: str,
        *,
        author: str = "alice",
        reply_to: dict[str, Any] | None = None,
        attachments: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Dispatch MESSAGE_CREATE for a message a user (or another bot) typed or uploaded."""
        who = self.bot_user if author == "self" else self.users[author]
        mentioned = set(re.findall(r"<@!?(\d+)>", content))
        everyone = [self.bot_user, *self.users.values()]
        mentions = [u for u in everyone if u["id"] in mentioned]
        if reply_to is not None and reply_to["author"]["id"] not in mentioned:
            mentions.append(reply_to["author"])  # a reply pings its author by default
        msg = p.message(
            p.snowflake(),
            channel_id,
            who,
            content,
            guild_id=self.guild_id,
            mentions=mentions,
            reference={
                "message_id": reply_to["id"],
                "channel_id": str(channel_id),
                "guild_id": str(self.guild_id),
                "type": 0,
            }
            if reply_to
            else None,
            referenced=reply_to,
        )
        msg["attachments"] = [p.attachment(p.snowflake(), name) for name in attachments]
        if channel_id == self.dm_channel_id:  # a direct message: no guild, no member
            del msg["guild_id"]
        else:
            member = p.member(who, self.roles.get(who["id"], []))
            msg["member"] = {k: v for k, v in member.items() if k != "user"}
        self.messages[int(msg["id"])] = msg
        self.dispatched_at[int(msg["id"])] = time.perf_counter()
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    def interaction_payload(
        self,
        kind: int,
        data: dict[str, Any],
        user: str,
        channel_id: int,
        message: dict[str, Any] | None = None,
    ) -> tuple[Interaction, dict[str, Any]]:
        """Return a new Interaction record and its INTERACTION_CREATE payload."""
        who = self.users[user]
        interaction = Interaction(
            p.snowflake(),
            secrets.token_urlsafe(32),
            kind,
            channel_id,
            int(who["id"]),
            message_id=int(message["id"]) if message is not None else None,
        )
        self.interactions[interaction.token] = interaction
        perms = self.member_permissions(who["id"])
        payload: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(self.app_id),
            "type": kind,
            "data": data,
            "guild_id": str(self.guild_id),
            "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": self.channels.get(channel_id) or self.deleted_channels[channel_id],
            "member": p.member(who, self.roles.get(who["id"], []), perms),
            "token": interaction.token,
            "version": 1,
            "app_permissions": str(p.VIEW_AND_SEND),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_LIMIT,
        }
        if message is not None:
            payload["message"] = message
        if channel_id == self.dm_channel_id:  # a direct message: a user, no guild, no member
            for key in ("guild_id", "guild", "member", "guild_locale"):
                del payload[key]
            payload.update(user=who, context=1, authorizing_integration_owners={"1": who["id"]})
        return interaction, payload

    async def slash(
        self,
        name: str,
        options: dict[str, str] | None = None,
        *,
        user: str = "alice",
        channel_id: int | None = None,
    ) -> Interaction:
        """Dispatch a slash command as a user; the command must have been synced."""
        command = self.commands[name]
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1}
        if options:
            data["options"] = [{"name": k, "type": 3, "value": v} for k, v in options.items()]
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        interaction, payload = self.interaction_payload(
            2, data, user, channel_id or self.channel_id
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    async def message_command(
        self, name: str, message: dict[str, Any], *, user: str = "alice"
    ) -> Interaction:
        """Dispatch a message context-menu command (Apps → name) on a message."""
        command = self.commands[name]
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        interaction, payload = self.interaction_payload(2, data, user, int(message["channel_id"]))
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    async def user_thread(
        self, starter: dict[str, Any], name: str, *, author: str = "alice"
    ) -> int:
        """Open a thread on a user's message, as a person asking for help would; return its id."""
        thread_id = int(starter["id"])
        data = p.thread(
            thread_id,
            self.guild_id,
            int(starter["channel_id"]),
            int(self.users[author]["id"]),
            name,
            1440,
        )
        self.channels[thread_id] = data
        await self.dispatch("THREAD_CREATE", {**data, "newly_created": True})
        return thread_id

    async def delete_thread(self, thread_id: int) -> None:
        """Delete a thread and its messages, as a moderator would."""
        data = self.deleted_channels[thread_id] = self.channels.pop(thread_id)
        for mid in [m for m, msg in self.messages.items() if int(msg["channel_id"]) == thread_id]:
            del self.messages[mid]
        await self.dispatch(
            "THREAD_DELETE",
            {k: data[k] for k in ("id", "guild_id", "parent_id", "type")},
        )

    async def click(
        self, message: dict[str, Any], custom_id: str, *, user: str = "alice"
    ) -> Interaction:
        """Dispatch a button click on a message the bot sent."""
        data = {"custom_id": custom_id, "component_type": 2}
        interaction, payload = self.interaction_payload(
            3, data, user, int(message["channel_id"]), message
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def rate_limit_next(self, method: str, pattern: str, retry_after: float) -> None:
        """Answer the next request matching ``method`` and the path regex with a 429."""
        self.rate_limits.append(RateLimitRule(method, re.compile(pattern), retry_after))

    def refuse_next(self, method: str, pattern: str, status: int = 403) -> None:
        """Answer the next matching request with an error, such as Missing Permissions."""
        self.rate_limits.append(RateLimitRule(method, re.compile(pattern), 0.0, status=status))

    def bot_messages(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        """Return the messages the bot created, optionally only in one channel or thread."""
        return [m for m in self.created if channel_id is None or int(m["channel_id"]) == channel_id]

    def message_bodies(self) -> list[dict[str, Any]]:
        """Return the JSON of every request that made or edited a message."""
        bodies = []
        for r in self.requests:
            if r.status == 429 or not isinstance(r.body, dict):
                continue
            made = r.method == "POST" and re.fullmatch(r"/channels/\d+/messages", r.path)
            edited = r.method == "PATCH" and re.fullmatch(r"/channels/\d+/messages/\d+", r.path)
            if made or edited or r.path.startswith("/webhooks/"):
                bodies.append(r.body)
            elif r.path.endswith("/callback") and r.body.get("type") in (4, 7):
                bodies.append(r.body.get("data") or {})
        return bodies

    # --- REST -------------------------------------------------------------------------------

    def _route_table(self) -> None:
        """List the REST routes: method, path regex, handler, whether a bot token is needed."""
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", r"/users/@me", self.get_me, True),
            ("GET", r"/oauth2/applications/@me", self.get_application, True),
            ("GET", r"/gateway(?:/bot)?", self.get_gateway, True),
            ("PUT", r"/applications/\d+/commands", self.put_commands, True),
            ("PUT", r"/applications/\d+/guilds/(?P<guild>\d+)/commands", self.put_commands, True),
            ("POST", r"/channels/(?P<channel>\d+)/messages", self.post_message, True),
            (
                "GET",
                r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)",
                self.get_message,
                True,
            ),
            (
                "PATCH",
                r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)",
                self.patch_message,
                True,
            ),
            (
                "DELETE",
                r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)",
                self.delete_message,
                True,
            ),
            (
                "POST",
                r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)/threads",
                self.post_thread,
                True,
            ),
            ("POST", r"/channels/(?P<channel>\d+)/typing", self.no_content, True),
            (
                "POST",
                r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback",
                self.post_callback,
                False,
            ),
            ("POST", r"/webhooks/\d+/(?P<token>[^/]+)", self.post_followup, False),
            (
                "PATCH",
                r"/webhooks/\d+/(?P<token>[^/]+)/messages/(?P<message>[^/]+)",
                self.patch_followup,
                False,
            ),
        ]
        self.routes = [(m, re.compile(f"^{rx}$"), h, auth) for m, rx, h, auth in table]

    async def read_body(self, request: web.Request) -> Any:
        """Return the JSON body, or the payload_json part of a multipart body, or None."""
        if not request.can_read_body:
            return None
        if request.content_type == "multipart/form-data":
            form = await request.post()
            raw = form.get("payload_json")
            return json.loads(str(raw)) if raw is not None else None
        text = await request.text()
        return json.loads(text) if text else None

    async def rest(self, request: web.Request) -> web.StreamResponse:
        """Route one REST request: record it, validate it against the spec, then handle it."""
        path = "/" + request.match_info["tail"]
        body = await self.read_body(request)
        record = Request(request.method, path, dict(request.query), body, time.perf_counter())
        request[RECEIVED_AT] = record.at  # latency ends on arrival, not after validation
        self.requests.append(record)
        try:
            response = await self._handle(request, path, body, record)
        finally:
            await self.touch()
        record.status = response.status
        return response

    async def _handle(
        self, request: web.Request, path: str, body: Any, record: Request
    ) -> web.StreamResponse:
        """Check auth, the spec and injected rate limits, then call the route's handler."""
        for method, pattern, handler, needs_auth in self.routes:
            match = pattern.match(path)
            if method != request.method or match is None:
                continue
            if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return json_response({"message": "401: Unauthorized", "code": 0}, 401)
            errors = self.spec.errors(request.method, path, body)
            if errors:
                self.spec_errors.extend(errors)
                details = {"_errors": [{"code": "SPEC", "message": e} for e in errors]}
                return json_response(
                    {"message": "Invalid Form Body", "code": 50035, "errors": details}, 400
                )
            for rule in self.rate_limits:
                if rule.remaining and rule.method == method and rule.pattern.search(path):
                    rule.remaining -= 1
                    if rule.status != 429:
                        message = {"message": "Missing Permissions", "code": 50013}
                        return json_response(message, rule.status)
                    return self.too_many_requests(rule.retry_after)
            return await handler(request, match.groupdict(), body)
        self.unknown_routes.append(f"{request.method} {path}")
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    def too_many_requests(self, retry_after: float) -> web.Response:
        """Return a 429 the way Discord sends one (discord.py insists on the Via header)."""
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Bucket": "double-bucket",
            "X-RateLimit-Scope": "user",
        }
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        }
        return json_response(body, 429, headers)

    async def no_content(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Answer 204."""
        return web.Response(status=204)

    async def get_me(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Return the bot user."""
        return json_response({**self.bot_user, "verified": True, "mfa_enabled": False})

    async def get_application(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Return the bot's application."""
        return json_response(
            {
                "id": str(self.app_id),
                "name": "qabot",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": self.users["mod"],
                "team": None,
                "summary": "",
                "rpc_origins": [],
                "tags": [],
            }
        )

    async def get_gateway(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Return the gateway URL."""
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def put_commands(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Store synced slash commands and echo them with ids."""
        result = []
        for command in body:
            data = {
                "id": str(p.snowflake()),
                "application_id": str(self.app_id),
                "version": "1",
                "type": 1,
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "description": "",
                **command,
            }
            if args.get("guild"):
                data["guild_id"] = args["guild"]
            self.commands[command["name"]] = data
            result.append(data)
        return json_response(result)

    def make_message(
        self, request: web.Request, channel_id: int, body: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        """Create a message from a request body, as the bot's author."""
        msg = p.message(
            p.snowflake(),
            channel_id,
            self.bot_user,
            body.get("content") or "",
            guild_id=None if channel_id == self.dm_channel_id else self.guild_id,
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=body.get("flags") or 0,
            **extra,
        )
        ref = body.get("message_reference")
        if ref:  # Discord accepts integer ids but always answers with strings
            msg["message_reference"] = {
                k: str(v) if k.endswith("_id") and v is not None else v for k, v in ref.items()
            }
            msg["referenced_message"] = self.messages.get(int(ref["message_id"]))
            msg["type"] = 19
        mid = int(msg["id"])
        self.messages[mid] = msg
        self.created.append(msg)
        self.created_at[mid] = request[RECEIVED_AT]
        return msg

    async def post_message(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Create a message and echo it on the gateway, as Discord does."""
        channel_id = int(args["channel"])
        if channel_id not in self.channels:
            return json_response({"message": "Unknown Channel", "code": 10003}, 404)
        msg = self.make_message(request, channel_id, body)
        await self.dispatch(
            "MESSAGE_CREATE",
            {
                **msg,
                "member": {
                    "roles": [],
                    "joined_at": p.now_iso(),
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                },
            },
        )
        return json_response(msg)

    async def get_message(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Return a message of a channel or thread, or Discord's Unknown Channel/Message."""
        if int(args["channel"]) not in self.channels:
            return json_response({"message": "Unknown Channel", "code": 10003}, 404)
        msg = self.messages.get(int(args["message"]))
        if msg is None or msg["channel_id"] != args["channel"]:
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        return json_response(msg)

    async def delete_message(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Delete a message."""
        self.messages.pop(int(args["message"]), None)
        return web.Response(status=204)

    async def post_thread(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Open a thread on a message; like Discord, the thread takes the message's id."""
        parent = int(args["channel"])
        thread_id = int(args["message"])
        if thread_id in self.channels:
            return json_response(
                {"message": "A thread has already been created for this message", "code": 160004},
                400,
            )
        data = p.thread(
            thread_id,
            self.guild_id,
            parent,
            self.app_id,
            body["name"],
            body.get("auto_archive_duration", 1440),
        )
        self.channels[thread_id] = data
        await self.dispatch("THREAD_CREATE", {**data, "newly_created": True})
        return json_response(data, 201)

    async def post_callback(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Take an interaction response and return the callback resource discord.py expects."""
        interaction = self.interactions.get(args["token"])
        if interaction is None or str(interaction.id) != args["id"]:
            return json_response({"message": "Unknown interaction", "code": 10062}, 404)
        if interaction.callbacks:
            return json_response(
                {"message": "Interaction has already been acknowledged.", "code": 40060}, 400
            )
        kind = body["type"]
        data = body.get("data") or {}
        ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
        message = None
        if kind == 4:
            message = self.make_message(
                request,
                interaction.channel_id,
                data,
                webhook_id=self.app_id,
                interaction_metadata={
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "user": p.user(interaction.user_id, "user"),
                },
            )
        elif kind == 7 and interaction.message_id is not None:  # a button updates its message
            message = self.edit_message(request, interaction.message_id, data)
        interaction.callbacks.append({"body": body, "message": message})
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            resource["message"] = message
        return json_response(
            {
                "interaction": {
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "response_message_id": message["id"] if message else None,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": ephemeral,
                },
                "resource": resource,
            }
        )

    async def post_followup(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Create a follow-up message for an interaction."""
        interaction = self.interactions.get(args["token"])
        if interaction is None or not interaction.callbacks:  # no token, or not yet responded
            return json_response({"message": "Unknown Webhook", "code": 10015}, 404)
        msg = self.make_message(request, interaction.channel_id, body, webhook_id=self.app_id)
        interaction.followups.append(msg)
        if request.query.get("wait") in ("true", "1", "True"):
            return json_response(msg)
        return web.Response(status=204)

    def edit_message(self, request: web.Request, message_id: int, body: dict[str, Any]) -> Any:
        """Apply an edit to one of the bot's messages in place; return it, or None if unknown."""
        msg = self.messages.get(message_id)
        if msg is None or msg["author"]["id"] != self.bot_user["id"]:
            return None
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        msg["edited_timestamp"] = p.now_iso()
        self.edits.append(Edit(message_id, request[RECEIVED_AT], body))
        return msg

    def edits_of(self, message_id: int) -> list[Edit]:
        """Return the edits of one message, in arrival order."""
        return [e for e in self.edits if e.message_id == message_id]

    async def patch_message(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Edit a message the bot sent in a channel or thread."""
        msg = self.edit_message(request, int(args["message"]), body)
        if msg is None or msg["channel_id"] != args["channel"]:
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        return json_response(msg)

    async def patch_followup(
        self, request: web.Request, args: dict[str, str], body: Any
    ) -> web.StreamResponse:
        """Edit an interaction's original response or one of its follow-ups."""
        interaction = self.interactions.get(args["token"])
        if interaction is None:
            return json_response({"message": "Unknown Webhook", "code": 10015}, 404)
        ids = {str(m["id"]) for m in interaction.messages}
        if args["message"] == "@original":
            original = [c["message"] for c in interaction.callbacks if c.get("message")]
            target = original[0]["id"] if original else None
        else:
            target = args["message"] if args["message"] in ids else None
        msg = self.edit_message(request, int(target), body) if target else None
        if msg is None:
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        return json_response(msg)
