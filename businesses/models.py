"""Tenants: a Business, its settings, and the users who belong to it."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from typing import Any, ClassVar

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now

from businesses.cache_triggers import (
    BUSINESS_SETTINGS_KEYSPACE,
    MEMBERSHIPS_KEYSPACE,
    OUTBOX_TABLE,
    cache_invalidation_trigger,
)
from businesses.invalidation import business_changed, memberships_changed


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Asia/Jerusalem).")


def validate_country_code(value: str) -> None:
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"'{value}' is not an ISO 3166 country code (e.g. IL, US).")


class CacheInvalidatingQuerySet(models.QuerySet):
    """Bulk writes, which send no signals, drop this process's entries on commit.

    The database triggers (``businesses.cache_triggers``) announce every write to every
    process, whoever makes it; this is only the fast path for the writing process,
    like the signals: its own next read sees the change without waiting for the
    notification. ``update()`` reads the ids it is about to change first (a row that
    starts matching meanwhile is still announced by the trigger), so it works on any
    queryset Django can update, grouped or annotated ones included.
    """

    # The column that names the cache entry a row belongs to.
    cache_id_field: ClassVar[str]

    def _invalidate(self, ids: Iterable[int | None]) -> None:
        raise NotImplementedError

    def update(self, **kwargs: Any) -> int:
        ids: set[int | None] = set(self.values_list(self.cache_id_field, flat=True))
        assigned = kwargs.get(
            self.cache_id_field, kwargs.get(self.cache_id_field.removesuffix("_id"))
        )
        if isinstance(assigned, models.Model):
            assigned = assigned.pk
        if isinstance(assigned, int):
            ids.add(assigned)  # a row moved to another entry changes that one too
        updated = super().update(**kwargs)
        if updated:
            self._invalidate(ids)
        return updated

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        created = super().bulk_create(objs, *args, **kwargs)
        self._invalidate(getattr(obj, self.cache_id_field) for obj in created)
        return created


class BusinessQuerySet(CacheInvalidatingQuerySet):
    cache_id_field = "id"

    def _invalidate(self, ids: Iterable[int | None]) -> None:
        business_changed(ids, using=self.db)


class BusinessSettingsQuerySet(CacheInvalidatingQuerySet):
    cache_id_field = "business_id"

    def _invalidate(self, ids: Iterable[int | None]) -> None:
        business_changed(ids, using=self.db)


class MembershipQuerySet(CacheInvalidatingQuerySet):
    cache_id_field = "user_id"

    def _invalidate(self, ids: Iterable[int | None]) -> None:
        memberships_changed(ids, using=self.db)


class Business(models.Model):
    """A tenant. Every CRM record belongs to exactly one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    is_active = models.BooleanField(
        default=True, help_text="Inactive businesses are refused by the API."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BusinessQuerySet.as_manager()

    class Meta:
        db_table = "business"
        verbose_name_plural = "businesses"
        ordering = ["name"]
        triggers = [
            # A new business cannot be cached yet.
            cache_invalidation_trigger(
                name="business_cache_invalidation",
                keyspace=BUSINESS_SETTINGS_KEYSPACE,
                column="id",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return self.name


class BusinessSettings(models.Model):
    """Per-tenant configuration, one row per business (primary key ``tenant_id``)."""

    business = models.OneToOneField(
        Business,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="settings",
        db_column="tenant_id",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA time zone; 'today' in statistics is today here.",
    )
    default_country = models.CharField(
        max_length=2,
        default="US",
        validators=[validate_country_code],
        help_text="Region used to read phone numbers written without a country code.",
    )
    language = models.CharField(max_length=10, default="en")
    ai_assistant_enabled = models.BooleanField(default=True)
    working_hours_start = models.TimeField(null=True, blank=True)
    working_hours_end = models.TimeField(null=True, blank=True)
    whatsapp_greeting = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BusinessSettingsQuerySet.as_manager()

    class Meta:
        db_table = "business_settings"
        verbose_name_plural = "business settings"
        triggers = [
            # Also on insert: the business may be cached as having no settings.
            cache_invalidation_trigger(
                name="settings_cache_invalidation",
                keyspace=BUSINESS_SETTINGS_KEYSPACE,
                column="tenant_id",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        # The admin titles pages with this; its querysets select the business along.
        return f"Settings of {self.business.name}"

    def clean(self) -> None:
        if (self.working_hours_start is None) != (self.working_hours_end is None):
            raise ValidationError("Set both working hours or neither.")


class Membership(models.Model):
    """A user's role in a business. A user may belong to several businesses."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MANAGER = "manager", "Manager"
        AGENT = "agent", "Agent"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        # The unique (user_id, business_id) index leads with user_id.
        db_index=False,
    )
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        db_table = "membership"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "business"], name="membership_user_business_uniq"
            )
        ]
        triggers = [
            cache_invalidation_trigger(
                name="membership_cache_invalidation",
                keyspace=MEMBERSHIPS_KEYSPACE,
                column="user_id",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.business}"


class CacheOutboxEntry(models.Model):
    """A cache entry that a committed change made stale and a shared cache may still hold.

    Written only by the triggers, in the writer's transaction; drained by the serving
    processes into Redis (``businesses.cache_outbox``). While it holds rows, readers do
    not trust Redis.
    """

    id = models.BigAutoField(primary_key=True)
    keyspace = models.CharField(max_length=32)
    key = models.BigIntegerField()
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = OUTBOX_TABLE
        verbose_name_plural = "cache outbox entries"

    def __str__(self) -> str:
        return f"{self.keyspace}:{self.key}"
