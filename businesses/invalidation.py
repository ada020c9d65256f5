"""Drop a changed tenant's cache entries in this process as soon as the change commits.

Used by the model signals (``businesses.signals``) and by the querysets whose bulk
writes send no signals (``businesses.models``). This is the fast path of the writing
process only: the database triggers (``businesses.cache_triggers``) tell every process,
the writer included, whoever wrote and even if the writer dies right after its commit.
Dropping the entries in ``transaction.on_commit`` means that a rolled-back change
invalidates nothing, and that a reader that loaded the old row before the commit
cannot put it back afterwards (see ``businesses.cache_keyspace``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from businesses.cache import get_business_settings_cache, get_membership_cache
from businesses.cache_keyspace import Keyspace


def _invalidate_after_commit(
    keyspace: Keyspace, ids: Iterable[int | None], using: str, *, announce: bool = False
) -> None:
    unique = sorted({int(i) for i in ids if i is not None})
    if not unique:
        return
    if announce:
        # A table without a trigger: tell the other processes ourselves, in the
        # writer's transaction (NOTIFY is delivered on commit only).
        keyspace.announce("invalidate", unique, using=using)
    transaction.on_commit(lambda: keyspace.invalidate_here(unique), using=using)


def business_changed(business_ids: Iterable[int | None], *, using: str) -> None:
    """A business or its settings row changed (or will, when ``using`` commits)."""
    _invalidate_after_commit(get_business_settings_cache(), business_ids, using)


def memberships_changed(
    user_ids: Iterable[int | None], *, using: str, announce: bool = False
) -> None:
    """These users' memberships changed (or will, when ``using`` commits). ``announce``
    for a change the membership trigger does not see (the user row itself)."""
    _invalidate_after_commit(get_membership_cache(), user_ids, using, announce=announce)
