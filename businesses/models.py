"""Tenants: a Business, its settings, and the users who belong to it."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from businesses.invalidation import business_changed, memberships_changed


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Asia/Jerusalem).")


def validate_country_code(value: str) -> None:
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"'{value}' is not an ISO 3166 country code (e.g. IL, US).")


class CacheInvalidatingQuerySet(models.QuerySet):
    """Bulk writes, which send no signals, invalidate the cache all the same.

    ``update()`` (and so ``bulk_update()``, which calls it) locks the rows it is about
    to change, schedules their invalidation, then changes exactly those rows: a row
    inserted meanwhile is neither changed nor forgotten. ``bulk_create()`` invalidates
    the rows it wrote (with ``update_conflicts`` they may have existed). Raw SQL is
    not covered: after one, run ``manage.py cache_stats --clear``.
    """

    # The column that names the cache entry a row belongs to.
    cache_id_field: ClassVar[str]

    def _invalidate(self, ids: Iterable[int | None]) -> None:
        raise NotImplementedError

    def update(self, **kwargs: Any) -> int:
        with transaction.atomic(using=self.db, savepoint=False):
            rows = list(self.select_for_update(of=("self",)).values_list("pk", self.cache_id_field))
            if not rows:
                return 0
            ids = {cache_id for _, cache_id in rows}
            assigned = kwargs.get(
                self.cache_id_field, kwargs.get(self.cache_id_field.removesuffix("_id"))
            )
            if isinstance(assigned, models.Model):
                assigned = assigned.pk
            if isinstance(assigned, int):
                ids.add(assigned)  # a row moved to another entry changes that one too
            self._invalidate(ids)
            plain = self.model._base_manager.using(self.db)
            return plain.filter(pk__in=[pk for pk, _ in rows]).update(**kwargs)

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

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.business}"
