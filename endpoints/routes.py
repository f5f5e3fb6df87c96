"""What a router process knows of each online endpoint: the digests of its keys, its traffic and
mirror split, and the addresses and secrets of its ready instances, cached so that a scoring
request touches no database.

An entry is trusted for `STUDIO_ROUTER_CACHE_MS`; after that the next request still uses it and
reloads it in the background (a request waits for the database only when the entry is missing or
long out of date). A change saved in this process (signals on the endpoint, deployment and
instance rows) drops the cache at once; a change made by another process is seen within the cache
time. A key that does not match forces one reload (at most every `RECHECK_SECONDS`), so a key
regenerated elsewhere works at once; an instance that refuses a connection is skipped for
`BAD_PORT_SECONDS` and the entry reloaded.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from endpoints import keys
from endpoints.models import AuthMode, DeploymentInstance, InstanceStatus, OnlineEndpoint
from studio import crypto
from studio.models import AccessToken, Workspace, hash_token
from studio.permissions import VIEW, can

# The header every instance's server requires (endpoints/serving/launch_server.py checks it).
KEY_HEADER = "X-Studio-Instance-Key"
RECHECK_SECONDS = 0.2
BAD_PORT_SECONDS = 3.0
STALE_FACTOR = 10  # an entry older than this many cache times is reloaded before use


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class Split:
    """Smooth weighted round-robin (nginx's): over every 100 picks each name gets exactly its
    share, interleaved, with no random draw. One per traffic map, kept across reloads while the
    map is unchanged."""

    def __init__(self, weights: dict[str, int]):
        self.weights = {name: share for name, share in weights.items() if share > 0}
        self.total = sum(self.weights.values())
        self.current = dict.fromkeys(self.weights, 0)

    def pick(self) -> str | None:
        if not self.total:
            return None
        best = None
        for name, weight in self.weights.items():
            self.current[name] += weight
            if best is None or self.current[name] > self.current[best]:
                best = name
        assert best is not None
        self.current[best] -= self.total
        return best


class Mirror:
    """Every request adds `percent` credits; at 100 one request is copied: exactly `percent` %."""

    def __init__(self, target: str, percent: int):
        self.target, self.percent, self.credit = target, percent, 0

    def pick(self) -> str | None:
        self.credit += self.percent
        if self.credit >= 100:
            self.credit -= 100
            return self.target
        return None


@dataclass(frozen=True)
class Instance:
    """Where the router sends a request for one ready instance, and the secret its server wants."""

    url: str
    secret: str


@dataclass
class DeploymentRoute:
    id: int
    name: str
    instances: list[Instance]
    turn: int = 0

    def pick(self) -> Instance | None:
        """The next ready instance, round robin, passing over ones that just refused us."""
        if not self.instances:
            return None
        now = time.monotonic()
        for _ in range(len(self.instances)):
            self.turn = (self.turn + 1) % len(self.instances)
            instance = self.instances[self.turn]
            if _bad_ports.get(instance.url, 0.0) < now:
                return instance
        return None


@dataclass
class Route:
    endpoint_id: int
    workspace_id: int
    auth_mode: str
    key_digests: tuple[bytes, ...]
    traffic: dict[str, int]
    mirror_traffic: dict[str, int]
    deployments: dict[str, DeploymentRoute]
    split: Split
    mirror: Mirror | None
    loaded: float
    # aml_token endpoints: digest of a member's token -> until when it is trusted.
    tokens: dict[bytes, float] = field(default_factory=dict)

    def key_matches(self, presented: str) -> bool:
        if not presented:
            return False
        found = False
        offered = digest(presented)
        for known in self.key_digests:
            # Every key compared, in constant time: the timing tells nothing about which matched.
            found |= hmac.compare_digest(known, offered)
        return found


@dataclass
class _Entry:
    route: Route | None
    loaded: float
    loading_since: float = 0.0
    rechecked: float = 0.0


_cache: dict[tuple[str, str], _Entry] = {}
_bad_ports: dict[str, float] = {}  # instance url -> until when it is passed over


def ttl() -> float:
    return settings.STUDIO_ROUTER_CACHE_MS / 1000


def forget_all(**_: Any) -> None:
    """Drop every cached route (connected to the endpoint models' save and delete signals)."""
    _cache.clear()


def mark_bad(instance: Instance) -> None:
    _bad_ports[instance.url] = time.monotonic() + BAD_PORT_SECONDS


def load(workspace: str, name: str, previous: Route | None = None) -> Route | None:
    """Read one endpoint's route from the database (synchronous: run it in a thread)."""
    endpoint = OnlineEndpoint.objects.filter(workspace__name=workspace, name=name).first()
    if endpoint is None:
        return None
    deployments = {
        d_name: DeploymentRoute(pk, d_name, []) for pk, d_name in endpoint.deployments.values_list("pk", "name")
    }
    ready = DeploymentInstance.objects.filter(deployment__endpoint=endpoint, status=InstanceStatus.READY)
    found = ready.order_by("pk").values_list("deployment__name", "host", "port", "secret_encrypted")
    for d_name, host, port, secret in found:
        if host and port and secret:
            url = f"http://{host}:{port}/score"
            deployments[d_name].instances.append(Instance(url, crypto.decrypt(secret)))
    if previous is not None:
        for d_name, route in deployments.items():
            if d_name in previous.deployments:
                route.turn = previous.deployments[d_name].turn
    # Keep the round-robin state while the split is the same, so shares stay exact across reloads.
    same_split = previous is not None and previous.traffic == endpoint.traffic
    split = previous.split if same_split and previous is not None else Split(endpoint.traffic)
    mirror = None
    for target, percent in (endpoint.mirror_traffic or {}).items():
        if percent > 0:
            same = previous is not None and previous.mirror_traffic == endpoint.mirror_traffic
            mirror = previous.mirror if same and previous is not None else Mirror(target, percent)
    key_digests: tuple[bytes, ...] = ()
    if endpoint.auth_mode == AuthMode.KEY:
        key_digests = tuple(digest(k) for k in keys.read(endpoint).values())
    return Route(
        endpoint_id=endpoint.pk,
        workspace_id=endpoint.workspace_id,
        auth_mode=endpoint.auth_mode,
        key_digests=key_digests,
        traffic=dict(endpoint.traffic),
        mirror_traffic=dict(endpoint.mirror_traffic or {}),
        deployments=deployments,
        split=split,
        mirror=mirror,
        loaded=time.monotonic(),
    )


def token_allowed(route: Route, presented: str) -> bool:
    """A member's active API token that may view the endpoint's workspace (synchronous)."""
    token = AccessToken.objects.select_related("user").filter(key_hash=hash_token(presented)).first()
    if not (token and token.state == "active" and token.user.is_active):
        return False
    workspace = Workspace.objects.filter(pk=route.workspace_id).first()
    return workspace is not None and can(token.user, workspace, VIEW)


class Cache:
    """The async face of the cache. `run_sync` runs a database function off the event loop: a
    thread pool in the ASGI app, asgiref's sync_to_async under Django's own handlers."""

    def __init__(self, run_sync, spawn=None):
        self.run_sync = run_sync
        self.spawn = spawn  # schedules a background coroutine; None: reload in line

    async def get(self, workspace: str, name: str) -> Route | None:
        key = (workspace, name)
        entry = _cache.get(key)
        now = time.monotonic()
        if entry is not None:
            age = now - entry.loaded
            if age < ttl():
                return entry.route
            if self.spawn is not None and age < ttl() * STALE_FACTOR:
                if now - entry.loading_since > 5.0:  # one reload at a time (a lost one is retried)
                    entry.loading_since = now
                    self.spawn(self.reload(workspace, name))
                return entry.route
        return await self.reload(workspace, name)

    async def reload(self, workspace: str, name: str) -> Route | None:
        key = (workspace, name)
        previous = _cache.get(key)
        route = await self.run_sync(load, workspace, name, previous.route if previous else None)
        _cache[key] = _Entry(route, time.monotonic())
        return route

    async def authorised(self, workspace: str, name: str, route: Route, presented: str) -> Route | None:
        """The route if `presented` may call it (reloaded once on a miss), else None."""
        if route.auth_mode == AuthMode.KEY:
            if route.key_matches(presented):
                return route
            entry = _cache.get((workspace, name))
            now = time.monotonic()
            if not presented or entry is None or now - entry.rechecked < RECHECK_SECONDS:
                return None
            entry.rechecked = now
            fresh = await self.reload(workspace, name)
            return fresh if fresh is not None and fresh.key_matches(presented) else None
        if not presented:
            return None
        offered = digest(presented)
        now = time.monotonic()
        if route.tokens.get(offered, 0.0) > now:
            return route
        if await self.run_sync(token_allowed, route, presented):
            route.tokens[offered] = now + max(ttl(), 1.0)
            return route
        return None
