"""Saving or deleting a tenant's rows, from anywhere, invalidates its cache entries.

Connected in ``BusinessesConfig.ready()``. Anything that goes through ``save()`` or
``delete()`` passes here: the API, the admin, a shell, a service, cascades. Bulk
writes that send no signals are covered by the models' querysets. Both are the
writer's fast path: the database triggers (``businesses.cache_triggers``) tell every
process about every write, these included.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from businesses.invalidation import business_changed, memberships_changed
from businesses.models import Business, BusinessSettings, Membership


@receiver(post_save, sender=Business, dispatch_uid="business_saved_invalidates_cache")
def business_saved(
    sender: type[Business], instance: Business, created: bool, using: str, **kwargs: Any
) -> None:
    if not created:  # a new business cannot be cached yet
        business_changed([instance.pk], using=using)


@receiver(post_delete, sender=Business, dispatch_uid="business_deleted_invalidates_cache")
def business_deleted(sender: type[Business], instance: Business, using: str, **kwargs: Any) -> None:
    business_changed([instance.pk], using=using)


@receiver(post_save, sender=BusinessSettings, dispatch_uid="settings_saved_invalidates_cache")
@receiver(post_delete, sender=BusinessSettings, dispatch_uid="settings_deleted_invalidates_cache")
def business_settings_changed(
    sender: type[BusinessSettings], instance: BusinessSettings, using: str, **kwargs: Any
) -> None:
    # Also on creation: the business may be cached as having no settings.
    business_changed([instance.business_id], using=using)


@receiver(pre_save, sender=Membership, dispatch_uid="membership_remembers_previous_user")
def membership_remembers_previous_user(
    sender: type[Membership], instance: Membership, using: str, **kwargs: Any
) -> None:
    # Reassigning a membership to another user changes the previous user's list too.
    update_fields = kwargs.get("update_fields")
    if instance._state.adding or (
        update_fields is not None and not {"user", "user_id"} & set(update_fields)
    ):
        instance._previous_user_id = instance.user_id  # type: ignore[attr-defined]
        return
    instance._previous_user_id = (  # type: ignore[attr-defined]
        Membership.objects.using(using)
        .filter(pk=instance.pk)
        .values_list("user_id", flat=True)
        .first()
    )


@receiver(post_save, sender=Membership, dispatch_uid="membership_saved_invalidates_cache")
def membership_saved(
    sender: type[Membership], instance: Membership, using: str, **kwargs: Any
) -> None:
    previous = getattr(instance, "_previous_user_id", None)
    memberships_changed([instance.user_id, previous], using=using)


@receiver(post_delete, sender=Membership, dispatch_uid="membership_deleted_invalidates_cache")
def membership_deleted(
    sender: type[Membership], instance: Membership, using: str, **kwargs: Any
) -> None:
    memberships_changed([instance.user_id], using=using)


@receiver(post_save, sender=get_user_model(), dispatch_uid="user_saved_invalidates_memberships")
def user_saved(sender: type[Any], instance: Any, created: bool, using: str, **kwargs: Any) -> None:
    # Deactivating a user must take effect on their next request. (Token and session
    # authentication re-read the user on every request and refuse an inactive one
    # already; this keeps the cache from outliving the user's access in any case.)
    # Logging in saves last_login only; that changes nothing cached.
    update_fields = kwargs.get("update_fields")
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    memberships_changed([instance.pk], using=using, announce=True)
