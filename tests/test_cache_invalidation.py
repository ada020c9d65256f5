"""Changes to tenants invalidate their cache entries after commit, from every write path.

These tests commit real transactions (``transactional_db``): invalidation happens in
``on_commit``, and the race below needs two connections that see each other's commits.
"""

from __future__ import annotations

import json
import select
import threading
from collections.abc import Iterator

import psycopg2
import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client

from businesses import cache as cache_module
from businesses import selectors
from businesses.cache import (
    BusinessSettingsCache,
    get_business_settings_cache,
    get_membership_cache,
)
from businesses.cache_broadcast import CHANNEL
from businesses.models import Business, BusinessSettings, Membership
from businesses.selectors import cached_business, cached_memberships
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def cached_language(business: Business) -> str | None:
    """What the cache holds for ``business`` (without loading it)."""
    entry = get_business_settings_cache().get(business.pk)
    return entry[1].language if entry and entry[1] else None


def change_language(business: Business, language: str) -> None:
    business_settings = BusinessSettings.objects.get(business=business)
    business_settings.language = language
    business_settings.save()


class Rollback(Exception):
    pass


def test_a_saved_change_invalidates_the_entry_when_it_commits_not_before() -> None:
    business = factories.make_business()
    cached_business(business_id=business.pk)
    with transaction.atomic():
        change_language(business, "he")
        # Until the commit every other transaction still reads "en": keep serving it.
        assert cached_language(business) == "en"
    assert get_business_settings_cache().get(business.pk) is None
    assert cached_business(business_id=business.pk)[1].language == "he"  # type: ignore[index]


def test_a_rolled_back_change_invalidates_nothing() -> None:
    business = factories.make_business()
    cached_business(business_id=business.pk)
    invalidations = get_business_settings_cache().stats()["invalidations"]
    with pytest.raises(Rollback), transaction.atomic():
        change_language(business, "he")
        raise Rollback
    assert cached_language(business) == "en"
    assert get_business_settings_cache().stats()["invalidations"] == invalidations


def test_a_change_rolled_back_to_a_savepoint_invalidates_nothing() -> None:
    business = factories.make_business()
    cached_business(business_id=business.pk)
    with transaction.atomic():
        with pytest.raises(Rollback), transaction.atomic():
            change_language(business, "he")
            raise Rollback
        business.name = business.name  # an unrelated statement in the outer transaction
    assert cached_language(business) == "en"


def test_deleting_the_settings_row_or_the_business_invalidates_the_entry() -> None:
    business = factories.make_business()
    cached_business(business_id=business.pk)
    BusinessSettings.objects.get(business=business).delete()
    assert cached_business(business_id=business.pk)[1] is None  # type: ignore[index]
    business.delete()
    assert get_business_settings_cache().get(business.pk) is None
    assert cached_business(business_id=business.pk) is None


def test_the_notification_to_other_processes_is_delivered_only_on_commit() -> None:
    business = factories.make_business()
    settings_dict = connection.settings_dict
    listener = psycopg2.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or None,
    )
    listener.autocommit = True
    try:
        listener.cursor().execute(f"LISTEN {CHANNEL}")

        def heard() -> list[dict[str, object]]:
            select.select([listener], [], [], 0.5)
            listener.poll()
            payloads = [json.loads(n.payload) for n in listener.notifies]
            listener.notifies.clear()
            return payloads

        with pytest.raises(Rollback), transaction.atomic():
            change_language(business, "he")
            raise Rollback
        assert heard() == []

        change_language(business, "he")
        messages = heard()
        assert [(m["keyspace"], m["op"], m["ids"]) for m in messages] == [
            ("business-settings", "invalidate", [business.pk])
        ]
    finally:
        listener.close()


# --- the admin ------------------------------------------------------------------------


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(factories.make_user(is_staff=True, is_superuser=True))
    return client


def test_a_settings_change_in_the_admin_is_seen_by_the_next_read(admin_client: Client) -> None:
    business = factories.make_business()
    cached_business(business_id=business.pk)
    response = admin_client.post(
        f"/admin/businesses/businesssettings/{business.pk}/change/",
        {
            "business": business.pk,
            "time_zone": "Europe/Paris",
            "default_country": "FR",
            "language": "fr",
            "ai_assistant_enabled": "on",
            "working_hours_start": "",
            "working_hours_end": "",
            "whatsapp_greeting": "Bonjour",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    fresh = cached_business(business_id=business.pk)[1]  # type: ignore[index]
    assert (fresh.time_zone, fresh.language, fresh.whatsapp_greeting) == (
        "Europe/Paris",
        "fr",
        "Bonjour",
    )


def test_deleting_a_business_in_the_admin_forgets_it_and_its_members(admin_client: Client) -> None:
    business = factories.make_business()
    member = factories.make_member(business, Membership.Role.OWNER)
    cached_business(business_id=business.pk)
    assert cached_memberships(user_id=member.pk) != ()
    response = admin_client.post(
        f"/admin/businesses/business/{business.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert get_business_settings_cache().get(business.pk) is None
    assert get_membership_cache().get(member.pk) is None
    assert cached_memberships(user_id=member.pk) == ()


# --- writes that send no signals -------------------------------------------------------


def test_queryset_update_of_settings_invalidates_after_commit() -> None:
    business, other = factories.make_business(), factories.make_business()
    for b in (business, other):
        cached_business(business_id=b.pk)
    with transaction.atomic():
        assert BusinessSettings.objects.filter(business=business).update(language="he") == 1
        assert cached_language(business) == "en"
    assert cached_business(business_id=business.pk)[1].language == "he"  # type: ignore[index]
    assert cached_language(other) == "en"


def test_queryset_update_and_bulk_update_of_businesses_invalidate() -> None:
    first, second = factories.make_business(), factories.make_business()
    for b in (first, second):
        cached_business(business_id=b.pk)
    Business.objects.filter(pk=first.pk).update(is_active=False)
    assert cached_business(business_id=first.pk)[0].is_active is False  # type: ignore[index]

    second.name = "Renamed in bulk"
    Business.objects.bulk_update([second], ["name"])
    assert cached_business(business_id=second.pk)[0].name == "Renamed in bulk"  # type: ignore[index]


def test_update_of_an_annotated_grouped_queryset_works_and_invalidates() -> None:
    # Any queryset Django can update: this one aggregates (GROUP BY), which a
    # SELECT ... FOR UPDATE of the caller's queryset could not lock.
    with_members, without = factories.make_business(), factories.make_business()
    factories.make_member(with_members, Membership.Role.AGENT)
    for b in (with_members, without):
        cached_business(business_id=b.pk)
    changed = (
        Business.objects.annotate(members=Count("memberships"))
        .filter(members__gt=0)
        .update(is_active=False)
    )
    assert changed == 1
    assert cached_business(business_id=with_members.pk)[0].is_active is False  # type: ignore[index]
    assert cached_business(business_id=without.pk)[0].is_active is True  # type: ignore[index]


def test_bulk_created_settings_invalidate_a_business_cached_without_them() -> None:
    business = factories.make_business()
    BusinessSettings.objects.filter(business=business).delete()
    assert cached_business(business_id=business.pk)[1] is None  # type: ignore[index]
    BusinessSettings.objects.bulk_create([BusinessSettings(business=business, language="he")])
    assert cached_business(business_id=business.pk)[1].language == "he"  # type: ignore[index]


def test_membership_bulk_writes_invalidate_the_users_concerned() -> None:
    business, other_business = factories.make_business(), factories.make_business()
    alice, bob = factories.make_user(), factories.make_user()
    assert cached_memberships(user_id=alice.pk) == ()
    Membership.objects.bulk_create(
        [Membership(user=alice, business=business, role=Membership.Role.AGENT)]
    )
    assert [m.role for m in cached_memberships(user_id=alice.pk)] == ["agent"]

    Membership.objects.filter(user=alice).update(role=Membership.Role.ADMIN)
    assert [m.role for m in cached_memberships(user_id=alice.pk)] == ["admin"]

    Membership.objects.create(user=bob, business=other_business, role=Membership.Role.OWNER)
    assert len(cached_memberships(user_id=bob.pk)) == 1
    Membership.objects.filter(user=alice).update(user=bob)
    assert cached_memberships(user_id=alice.pk) == ()
    assert len(cached_memberships(user_id=bob.pk)) == 2


def test_moving_a_membership_to_another_user_invalidates_both() -> None:
    business = factories.make_business()
    alice, bob = factories.make_user(), factories.make_user()
    membership = Membership.objects.create(user=alice, business=business, role="agent")
    assert len(cached_memberships(user_id=alice.pk)) == 1
    assert cached_memberships(user_id=bob.pk) == ()
    membership.user = bob
    membership.save()
    assert cached_memberships(user_id=alice.pk) == ()
    assert len(cached_memberships(user_id=bob.pk)) == 1


# --- the delete-then-stale-set race ---------------------------------------------------


@pytest.fixture(params=["local memory", "redis"])
def business_settings_cache(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BusinessSettingsCache]:
    """The process's business settings cache, on each kind of backend."""
    if request.param == "redis":
        alias = request.getfixturevalue("redis_alias")
        monkeypatch.setattr(
            cache_module, "_business_settings_cache", BusinessSettingsCache(alias=alias, ttl=600)
        )
    yield get_business_settings_cache()


def test_a_reader_that_loaded_the_old_row_cannot_store_it_after_the_commit(
    business_settings_cache: BusinessSettingsCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    business = factories.make_business()
    loaded_old_row, change_committed = threading.Event(), threading.Event()
    real_load = selectors.load_business

    def load_then_stall(business_id: int):  # type: ignore[no-untyped-def]
        value = real_load(business_id)
        loaded_old_row.set()
        assert change_committed.wait(10)
        return value

    monkeypatch.setattr(selectors, "load_business", load_then_stall)
    read: dict[str, object] = {}

    def reader() -> None:
        try:
            read["value"] = cached_business(business_id=business.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=reader)
    thread.start()
    assert loaded_old_row.wait(10)
    change_language(business, "he")  # commits; its on_commit invalidation has run
    change_committed.set()
    thread.join(10)
    assert not thread.is_alive()

    assert read["value"][1].language == "en"  # type: ignore[index]  # it read before the commit
    assert business_settings_cache.stats()["sets"] == 1  # and it did try to store that
    assert business_settings_cache.get(business.pk) is None  # but nobody will read it
    monkeypatch.undo()
    assert cached_business(business_id=business.pk)[1].language == "he"  # type: ignore[index]
