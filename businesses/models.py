"""Tenants: a Business, its settings, and the users who belong to it."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Asia/Jerusalem).")


def validate_country_code(value: str) -> None:
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"'{value}' is not an ISO 3166 country code (e.g. IL, US).")


class Business(models.Model):
    """A tenant. Every CRM record belongs to exactly one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    is_active = models.BooleanField(
        default=True, help_text="Inactive businesses are refused by the API."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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

    class Meta:
        db_table = "business_settings"
        verbose_name_plural = "business settings"

    def __str__(self) -> str:
        return f"Settings of {self.business_id}"

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

    class Meta:
        db_table = "membership"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "business"], name="membership_user_business_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.business}"
