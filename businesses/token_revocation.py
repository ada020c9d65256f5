"""A password change revokes the user's API tokens.

A token is a bearer credential that never expires; someone who changes a password
because it leaked expects the old sessions of the thief to end. Sessions already end
(Django rotates the session auth hash); these receivers do the same for DRF tokens.

Connected in ``BusinessesConfig.ready()``. They compare the stored password hash with
the one being saved, so every path that saves a user (``set_password`` + ``save``,
the admin, ``changepassword``, a hash assigned directly) is covered. A re-hash of the
same password (Django upgrading the hasher at login) keeps the tokens.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

User = get_user_model()
_REVOKE = "_revoke_tokens_on_save"


@receiver(pre_save, sender=User, dispatch_uid="password_change_marks_tokens")
def password_change_marks_tokens(
    sender: type[Any],
    instance: Any,
    update_fields: Any = None,
    using: str = "default",
    **kwargs: Any,
) -> None:
    setattr(instance, _REVOKE, False)
    if instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return  # e.g. the login's last_login update: no query
    stored = (
        sender._base_manager.using(using)
        .filter(pk=instance.pk)
        .values_list("password", flat=True)
        .first()
    )
    if stored is None or stored == instance.password:
        return
    raw = getattr(instance, "_password", None)  # set by set_password() until saved
    if raw is not None and stored and check_password(raw, stored):
        return  # the same password, re-hashed
    setattr(instance, _REVOKE, True)


@receiver(post_save, sender=User, dispatch_uid="password_change_revokes_tokens")
def password_change_revokes_tokens(
    sender: type[Any], instance: Any, using: str = "default", **kwargs: Any
) -> None:
    if getattr(instance, _REVOKE, False):
        Token.objects.using(using).filter(user=instance).delete()
        setattr(instance, _REVOKE, False)
