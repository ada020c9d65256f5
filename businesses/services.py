"""Writes for tenants: creating a business with its settings and members."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from businesses.models import Business, BusinessSettings, Membership


@transaction.atomic
def business_create(
    *, name: str, slug: str, owner: AbstractBaseUser | None = None, **settings_fields: Any
) -> Business:
    """Create a business together with its settings row (and its owner's membership)."""
    business = Business.objects.create(name=name, slug=slug)
    settings = BusinessSettings(business=business, **settings_fields)
    settings.full_clean()
    settings.save()
    if owner is not None:
        Membership.objects.create(user=owner, business=business, role=Membership.Role.OWNER)
    return business
