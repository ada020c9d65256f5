"""Writes for tenants: creating a business with its settings and members, changing settings.

Cache invalidation needs no call here: saving these models schedules it
(``businesses.signals``), after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def business_settings_ensure(*, business: Business) -> BusinessSettings:
    """The business's settings row, created with the defaults if it has none."""
    business_settings, _ = BusinessSettings.objects.get_or_create(business_id=business.pk)
    return business_settings


@transaction.atomic
def business_settings_update(*, business: Business, changes: Mapping[str, Any]) -> BusinessSettings:
    """Change some settings of ``business``, validated against the row as it is now.

    The row is locked, so two concurrent changes apply one after the other and
    neither undoes the other's fields. Raises ``django.core.exceptions.ValidationError``.
    """
    business_settings, _ = BusinessSettings.objects.select_for_update().get_or_create(
        business_id=business.pk
    )
    if not changes:
        return business_settings
    for field, value in changes.items():
        setattr(business_settings, field, value)
    # Skip the two checks that would each cost a query and cannot fail here: the
    # business is the caller's (and its settings row exists), and the primary key is
    # this row's own.
    business_settings.full_clean(exclude=["business"], validate_unique=False)
    business_settings.save(update_fields=[*changes, "updated_at"])
    return business_settings
