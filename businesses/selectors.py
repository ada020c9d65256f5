"""Reads of tenants, through the caches.

The caches hold plain data; these functions load it from the database on a miss and
turn it back into model instances for the request, built afresh each time so that
no request can change what another one sees.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS

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


def business_data_of(business: Business) -> BusinessData:
    return BusinessData(
        id=business.pk,
        name=business.name,
        slug=business.slug,
        is_active=business.is_active,
        created_at=business.created_at,
        updated_at=business.updated_at,
    )


def settings_data_of(business_settings: BusinessSettings) -> SettingsData:
    return SettingsData(
        time_zone=business_settings.time_zone,
        default_country=business_settings.default_country,
        language=business_settings.language,
        ai_assistant_enabled=business_settings.ai_assistant_enabled,
        working_hours_start=business_settings.working_hours_start,
        working_hours_end=business_settings.working_hours_end,
        whatsapp_greeting=business_settings.whatsapp_greeting,
        updated_at=business_settings.updated_at,
    )


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
    business = Business(
        id=business_data.id,
        name=business_data.name,
        slug=business_data.slug,
        is_active=business_data.is_active,
        created_at=business_data.created_at,
        updated_at=business_data.updated_at,
    )
    business._state.adding = False
    business._state.db = DEFAULT_DB_ALIAS
    if settings_data is None:
        business_settings = BusinessSettings(business=business)
    else:
        business_settings = BusinessSettings(
            business=business,
            time_zone=settings_data.time_zone,
            default_country=settings_data.default_country,
            language=settings_data.language,
            ai_assistant_enabled=settings_data.ai_assistant_enabled,
            working_hours_start=settings_data.working_hours_start,
            working_hours_end=settings_data.working_hours_end,
            whatsapp_greeting=settings_data.whatsapp_greeting,
            updated_at=settings_data.updated_at,
        )
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
