"""Reads of tenants, through the caches.

The caches hold plain data; these functions load it from the database on a miss and
turn it back into model instances for the request, built afresh each time so that
no request can change what another one sees.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model

from businesses.cache import (
    BusinessData,
    CachedBusiness,
    CachedMemberships,
    MembershipData,
    SettingsData,
    get_business_settings_cache,
    get_membership_cache,
)
from businesses.models import Business, BusinessSettings, Membership

DataT = TypeVar("DataT", BusinessData, SettingsData)


def business_data_of(business: Business) -> BusinessData:
    return _plain(BusinessData, business)


def settings_data_of(business_settings: BusinessSettings) -> SettingsData:
    return _plain(SettingsData, business_settings)


def _plain(data_class: type[DataT], instance: Model) -> DataT:
    """The dataclass's fields read off the model instance: the dataclass says what is cached."""
    return data_class(**{f.name: getattr(instance, f.name) for f in dataclasses.fields(data_class)})


def _field_values(data: BusinessData | SettingsData) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}


def load_business(business_id: int) -> CachedBusiness | None:
    """One query: the business with its settings row (LEFT JOIN; it may have none)."""
    return load_businesses([business_id]).get(business_id)


def load_businesses(ids: list[int]) -> dict[int, CachedBusiness]:
    """One query for all of ``ids``; a missing business is missing from the result."""
    loaded: dict[int, CachedBusiness] = {}
    for business in Business.objects.select_related("settings").filter(pk__in=ids):
        try:
            business_settings: BusinessSettings | None = business.settings
        except BusinessSettings.DoesNotExist:
            business_settings = None
        loaded[business.pk] = (
            business_data_of(business),
            settings_data_of(business_settings) if business_settings is not None else None,
        )
    return loaded


def load_memberships(user_id: int) -> CachedMemberships:
    """One query: every membership of the user, whatever the state of its business."""
    rows = (
        Membership.objects.filter(user_id=user_id)
        .order_by("business_id")
        .values_list("business_id", "role")
    )
    return tuple(MembershipData(business_id=b, role=r) for b, r in rows)


def cached_business(*, business_id: int) -> CachedBusiness | None:
    return get_business_settings_cache().get_or_load(
        business_id, lambda: load_business(business_id)
    )


def cached_memberships(*, user_id: int) -> CachedMemberships:
    memberships = get_membership_cache().get_or_load(user_id, lambda: load_memberships(user_id))
    return memberships if memberships is not None else ()


def business_from_cache(cached: CachedBusiness) -> Business:
    """A ``Business`` (with ``.settings``) built from cached data, no query needed.

    It behaves as loaded from the database (``pk`` set, saving updates). A business
    without a settings row gets an unsaved ``BusinessSettings`` with the defaults,
    which is what the first save of its settings would write.
    """
    business_data, settings_data = cached
    business = Business(**_field_values(business_data))
    business._state.adding = False
    business._state.db = DEFAULT_DB_ALIAS
    if settings_data is None:
        business_settings = BusinessSettings(business=business)
    else:
        business_settings = BusinessSettings(business=business, **_field_values(settings_data))
        business_settings._state.adding = False
        business_settings._state.db = DEFAULT_DB_ALIAS
    business.settings = business_settings
    return business


def business_settings_cache_warm(*, chunk_size: int = 500) -> int:
    """Load every active business into the business settings cache; returns how many."""
    cache = get_business_settings_cache()
    ids = list(Business.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    warmed = 0
    for start in range(0, len(ids), chunk_size):
        warmed += cache.warm(ids[start : start + chunk_size], load_businesses)
    return warmed
