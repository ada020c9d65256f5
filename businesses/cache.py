"""The business settings cache and the membership cache: one of each per process.

Every API request needs its tenant: the user's memberships, then the business and
its settings. Both are read through these caches, so a warm request spends no query
on them. Entries are plain frozen dataclasses (never model instances), keyed by id
with a schema version, invalidated by ``businesses.signals`` after commit. See
``docs/cache.md`` for the design, the settings and how to turn it off.

    from businesses.cache import get_business_settings_cache
    cache = get_business_settings_cache()
    cache.get(business_id)              # -> (business_data, settings_data) or None
    cache.set(business_id, business_data, settings_data=None)
    cache.invalidate(business_id)
    cache.clear()
    cache.stats()
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.conf import settings

from businesses.cache_broadcast import InvalidationBroadcast
from businesses.cache_keyspace import Keyspace
from businesses.cache_outbox import OutboxDrainer
from businesses.cache_triggers import BUSINESS_SETTINGS_KEYSPACE, MEMBERSHIPS_KEYSPACE

BUSINESS_SETTINGS_ALIAS = "business_settings"
MEMBERSHIPS_ALIAS = "memberships"

# Bump when a dataclass below changes shape: the version is part of every key.
BUSINESS_SETTINGS_SCHEMA_VERSION = 1
MEMBERSHIPS_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class BusinessData:
    id: int
    name: str
    slug: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SettingsData:
    time_zone: str
    default_country: str
    language: str
    ai_assistant_enabled: bool
    working_hours_start: time | None
    working_hours_end: time | None
    whatsapp_greeting: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MembershipData:
    business_id: int
    role: str


CachedBusiness = tuple[BusinessData, SettingsData | None]
CachedMemberships = tuple[MembershipData, ...]


def _encode_business(value: CachedBusiness) -> dict[str, Any]:
    business, business_settings = value
    return {
        "business": dataclasses.asdict(business),
        "settings": dataclasses.asdict(business_settings) if business_settings else None,
    }


def _decode_business(data: dict[str, Any]) -> CachedBusiness:
    raw_settings = data["settings"]
    return (
        BusinessData(**data["business"]),
        SettingsData(**raw_settings) if raw_settings is not None else None,
    )


def _encode_memberships(value: CachedMemberships) -> list[tuple[int, str]]:
    return [(m.business_id, m.role) for m in value]


def _decode_memberships(data: list[tuple[int, str]]) -> CachedMemberships:
    return tuple(MembershipData(business_id=int(b), role=str(r)) for b, r in data)


class BusinessSettingsCache(Keyspace[CachedBusiness]):
    """A business and its settings (``None`` if it has no settings row), by business id."""

    def __init__(
        self,
        *,
        alias: str = BUSINESS_SETTINGS_ALIAS,
        ttl: float,
        broadcast: InvalidationBroadcast | None = None,
        outbox: OutboxDrainer | None = None,
    ) -> None:
        super().__init__(
            name=BUSINESS_SETTINGS_KEYSPACE,
            alias=alias,
            ttl=ttl,
            schema_version=BUSINESS_SETTINGS_SCHEMA_VERSION,
            encode=_encode_business,
            decode=_decode_business,
            broadcast=broadcast,
            outbox=outbox,
        )

    def set(
        self,
        business_id: int,
        business_data: BusinessData,
        settings_data: SettingsData | None = None,
    ) -> None:
        self.put(business_id, (business_data, settings_data))


class MembershipCache(Keyspace[CachedMemberships]):
    """A user's memberships (business id and role, any business state), by user id."""

    def __init__(
        self,
        *,
        alias: str = MEMBERSHIPS_ALIAS,
        ttl: float,
        broadcast: InvalidationBroadcast | None = None,
        outbox: OutboxDrainer | None = None,
    ) -> None:
        super().__init__(
            name=MEMBERSHIPS_KEYSPACE,
            alias=alias,
            ttl=ttl,
            schema_version=MEMBERSHIPS_SCHEMA_VERSION,
            encode=_encode_memberships,
            decode=_decode_memberships,
            broadcast=broadcast,
            outbox=outbox,
        )

    def set(self, user_id: int, memberships: CachedMemberships) -> None:
        self.put(user_id, memberships)


# --- one of each per process ---------------------------------------------------------

_lock = threading.Lock()
_broadcast: InvalidationBroadcast | None = None
_outbox: OutboxDrainer | None = None
_business_settings_cache: BusinessSettingsCache | None = None
_membership_cache: MembershipCache | None = None


def get_invalidation_broadcast() -> InvalidationBroadcast | None:
    """The process's LISTEN/NOTIFY channel, or ``None`` if broadcasting is turned off."""
    global _broadcast
    if _broadcast is None and settings.BUSINESS_SETTINGS_CACHE_BROADCAST:
        with _lock:
            if _broadcast is None:
                _broadcast = InvalidationBroadcast()
    return _broadcast


def get_outbox_drainer() -> OutboxDrainer:
    """The process's drainer of the invalidation outbox (``businesses.cache_outbox``)."""
    global _outbox
    if _outbox is None:
        with _lock:
            if _outbox is None:
                _outbox = OutboxDrainer()
    return _outbox


def get_business_settings_cache() -> BusinessSettingsCache:
    global _business_settings_cache
    if _business_settings_cache is None:
        broadcast, outbox = get_invalidation_broadcast(), get_outbox_drainer()
        with _lock:
            if _business_settings_cache is None:
                _business_settings_cache = BusinessSettingsCache(
                    ttl=settings.BUSINESS_SETTINGS_CACHE_TTL, broadcast=broadcast, outbox=outbox
                )
    return _business_settings_cache


def get_membership_cache() -> MembershipCache:
    global _membership_cache
    if _membership_cache is None:
        broadcast, outbox = get_invalidation_broadcast(), get_outbox_drainer()
        with _lock:
            if _membership_cache is None:
                _membership_cache = MembershipCache(
                    ttl=settings.BUSINESS_SETTINGS_CACHE_TTL, broadcast=broadcast, outbox=outbox
                )
    return _membership_cache


def listen_for_invalidations() -> None:
    """Called by the WSGI/ASGI entry points: serving processes hear the invalidations
    (LISTEN, for process-local caches) and drain the outbox (into a shared cache; with
    local ones, only keeping it small). Threads start on each process's first read."""
    # Creating the caches registers them as receivers before anything is heard.
    caches_ = (get_business_settings_cache(), get_membership_cache())
    if any(cache.outbox is not None for cache in caches_):
        get_outbox_drainer().drain_in_this_process()
    broadcast = get_invalidation_broadcast()
    if broadcast is not None and any(cache.broadcast is not None for cache in caches_):
        broadcast.listen_in_this_process()


def cache_report() -> dict[str, Any]:
    """Statistics of both caches in this process, saying plainly whose they are."""
    business_settings = get_business_settings_cache()
    broadcast = business_settings.broadcast
    host, pid = socket.gethostname(), os.getpid()
    if business_settings.is_process_local:
        scope = (
            f"Process {pid} on {host}. Entries and counters are this process's own: "
            "each server process keeps its own local-memory cache."
        )
    else:
        scope = (
            f"Process {pid} on {host}. Counters are this process's own; entries live in "
            "the shared backend that every process reads."
        )
    return {
        "scope": {
            "pid": pid,
            "host": host,
            "description": scope,
        },
        "business_settings": business_settings.stats(),
        "memberships": get_membership_cache().stats(),
        "broadcast": broadcast.status() if broadcast is not None else None,
        "outbox": get_outbox_drainer().status(),
    }
