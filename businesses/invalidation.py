"""Schedule cache invalidation for a change that is being written to the database.

Used by the model signals (``businesses.signals``) and by the querysets whose bulk
writes send no signals (``businesses.models``). Two things happen:

* other processes are told with a ``NOTIFY`` sent now, inside the writer's
  transaction, so PostgreSQL delivers it if and only if the transaction commits
  (and even if this process dies right after the commit);
* this process drops its entries in ``transaction.on_commit``, so a rolled-back
  change invalidates nothing, and a reader that loaded the old row before the commit
  cannot put it back afterwards (see ``businesses.cache_keyspace``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from businesses.cache import get_business_settings_cache, get_membership_cache
from businesses.cache_keyspace import Keyspace


def _invalidate_after_commit(keyspace: Keyspace, ids: Iterable[int | None], using: str) -> None:
    unique = sorted({int(i) for i in ids if i is not None})
    if not unique:
        return
    keyspace.announce("invalidate", unique, using=using)
    transaction.on_commit(lambda: keyspace.invalidate_here(unique), using=using)


def business_changed(business_ids: Iterable[int | None], *, using: str) -> None:
    """A business or its settings row changed (or will, when ``using`` commits)."""
    _invalidate_after_commit(get_business_settings_cache(), business_ids, using)


def memberships_changed(user_ids: Iterable[int | None], *, using: str) -> None:
    """These users' memberships changed (or will, when ``using`` commits)."""
    _invalidate_after_commit(get_membership_cache(), user_ids, using)
