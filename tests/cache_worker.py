"""A separate server-like process for tests/test_cache_processes.py.

It listens for invalidations as a server process does, then answers commands read
from stdin, one JSON line each:

    read <business_id>                  {"language": "he", "hit": false}
    memberships <user_id>               {"businesses": [3], "hit": true}
    save-and-die <business_id> <lang>   (no answer) saves the settings, and SIGKILLs
                                        itself right after the commit, before its own
                                        on_commit invalidation runs
    wait <counter> <count> <secs>       {"invalidations": 1}  (until the statistics
                                        counter reaches count, at most secs seconds)

``WORKER_DATABASE`` (JSON) points it at the test database: NAME, USER, PASSWORD,
HOST, PORT. The rest comes from the environment as usual (CACHE_URL, ...).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prosaas.settings")
    import django
    from django.conf import settings

    settings.DATABASES["default"].update(json.loads(os.environ["WORKER_DATABASE"]))
    django.setup()

    from django.db import transaction

    from businesses.cache import (
        get_business_settings_cache,
        get_invalidation_broadcast,
        get_membership_cache,
        get_outbox_drainer,
        listen_for_invalidations,
    )
    from businesses.models import BusinessSettings
    from businesses.selectors import cached_business, cached_memberships

    cache = get_business_settings_cache()
    membership_cache = get_membership_cache()
    listen_for_invalidations()
    listening = False
    broadcast = get_invalidation_broadcast()
    if broadcast is not None and cache.broadcast is not None:
        listening = broadcast.wait_until_listening(timeout=30)
    if cache.stats()["shared"]:
        # Readers trust Redis once the outbox drainer has drained it.
        get_outbox_drainer().wait_until_trusted(timeout=30)
    reply({"ready": True, "listening": listening, "shared": cache.stats()["shared"]})

    for line in sys.stdin:
        command, *args = line.split()
        if command == "read":
            hits = cache.stats()["hits"]
            value = cached_business(business_id=int(args[0]))
            reply(
                {
                    "language": value[1].language if value and value[1] else None,
                    "hit": cache.stats()["hits"] > hits,
                }
            )
        elif command == "memberships":
            hits = membership_cache.stats()["hits"]
            memberships = cached_memberships(user_id=int(args[0]))
            reply(
                {
                    "businesses": [m.business_id for m in memberships],
                    "hit": membership_cache.stats()["hits"] > hits,
                }
            )
        elif command == "save-and-die":
            with transaction.atomic():
                # Registered first, so it runs first: the process dies between its
                # commit and its own cache invalidation.
                transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
                business_settings = BusinessSettings.objects.get(business_id=int(args[0]))
                business_settings.language = args[1]
                business_settings.save()
            reply({"error": "still alive"})
        elif command == "wait":
            counter, wanted = args[0], int(args[1])
            deadline = time.monotonic() + float(args[2])
            while cache.stats()[counter] < wanted and time.monotonic() < deadline:
                time.sleep(0.002)
            reply({counter: cache.stats()[counter]})
        else:
            reply({"error": f"unknown command {command!r}"})


def reply(answer: dict[str, object]) -> None:
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
