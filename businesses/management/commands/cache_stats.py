"""manage.py cache_stats: the tenant caches' backend, limits and statistics.

Numbers are only ever printed with the name of the process they belong to. A
command runs in a process of its own, which has served no request; with the
default local-memory backend it cannot see a server's entries or counters, so
``--url`` asks a running server (the staff-only ``/api/ops/cache-stats/``).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from businesses.cache import cache_report, get_business_settings_cache, get_membership_cache
from businesses.selectors import business_settings_cache_warm

STATS_PATH = "/api/ops/cache-stats/"
TOKEN_VARIABLE = "CACHE_STATS_TOKEN"

ROWS = [
    ("backend", "backend"),
    ("shared by all processes", "shared"),
    ("ttl (seconds)", "ttl"),
    ("max entries", "max_entries"),
    ("entries", "entries"),
    ("hits", "hits"),
    ("misses", "misses"),
    ("hit rate", "hit_rate"),
    ("sets", "sets"),
    ("invalidations", "invalidations"),
    ("clears", "clears"),
    ("evictions", "evictions"),
    ("backend errors", "errors"),
    ("counting since", "since"),
]


class Command(BaseCommand):
    help = (
        "Show the business settings and membership caches: backend, TTL, limits and "
        "statistics, saying whose they are. --url reads a running server's numbers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.add_argument(
            "--clear",
            action="store_true",
            help="Empty both caches in every process (asks first unless --yes).",
        )
        parser.add_argument("--yes", action="store_true", help="Do not ask before --clear.")
        parser.add_argument(
            "--warm", action="store_true", help="Load every active business into the cache."
        )
        parser.add_argument(
            "--url",
            help=f"Base URL of a running server, e.g. http://127.0.0.1:8000; reads its "
            f"{STATS_PATH} with a staff user's token.",
        )
        parser.add_argument(
            "--token", help=f"Staff user's API token for --url (default: ${TOKEN_VARIABLE})."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["url"]:
            if options["clear"] or options["warm"]:
                raise CommandError("--url only reads statistics; drop --clear and --warm.")
            report = self._fetch(options["url"], options["token"] or os.environ.get(TOKEN_VARIABLE))
            remote = True
        else:
            if options["clear"]:
                self._clear(confirmed=options["yes"])
            if options["warm"]:
                self._warm(quiet=options["json"])
            report = cache_report()
            remote = False

        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._print(report, remote=remote)

    # --- actions -----------------------------------------------------------------------

    def _clear(self, *, confirmed: bool) -> None:
        if not confirmed:
            if not sys.stdin.isatty():
                raise CommandError("Refusing to clear without confirmation; pass --yes.")
            answer = input("Empty the business settings and membership caches? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Nothing cleared.")
        business_settings, memberships = get_business_settings_cache(), get_membership_cache()
        business_settings.clear()
        memberships.clear()
        if business_settings.is_process_local:
            where = (
                "in this process, and announced to every process listening (server processes)"
                if business_settings.broadcast is not None
                else "in this process only (broadcasting is off)"
            )
        else:
            where = "in the shared backend, for every process"
        self.stderr.write(f"Cleared both caches {where}.")

    def _warm(self, *, quiet: bool) -> None:
        warmed = business_settings_cache_warm()
        cache = get_business_settings_cache()
        note = (
            " Note: this process's local memory only; server processes keep their own and "
            "fill it on first use. Warming helps with a shared backend (CACHE_URL)."
            if cache.is_process_local
            else ""
        )
        self.stderr.write(f"Loaded {warmed} active businesses into the cache.{note}")

    def _fetch(self, base_url: str, token: str | None) -> dict[str, Any]:
        if not token:
            raise CommandError(f"--url needs a staff user's token: --token or ${TOKEN_VARIABLE}.")
        url = base_url.rstrip("/") + STATS_PATH
        request = urllib.request.Request(
            url, headers={"Authorization": f"Token {token}", "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            body = exc.read()[:300].decode("utf-8", errors="replace").strip()
            raise CommandError(f"{url} answered {exc.code} {exc.reason}: {body}") from exc
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise CommandError(f"Could not read {url}: {exc}") from exc

    # --- output ------------------------------------------------------------------------

    def _print(self, report: dict[str, Any], *, remote: bool) -> None:
        scope = report["scope"]
        if remote:
            self.stdout.write(
                f"Statistics of a server process, as it reported them.\n{scope['description']}"
            )
        else:
            self.stdout.write(f"Statistics of this command's own process.\n{scope['description']}")
            if report["business_settings"]["backend"].endswith("LocMemCache"):
                self.stdout.write(
                    "This process has served no requests, and no process can read another's "
                    "local memory: for a running server's numbers use "
                    f"--url http://HOST:PORT with a staff token (${TOKEN_VARIABLE})."
                )
        business_settings, memberships = report["business_settings"], report["memberships"]
        self.stdout.write("")
        self.stdout.write(f"{'':<26}{'business settings':<44}memberships")
        for label, key in ROWS:
            left = _show(key, business_settings[key])
            right = _show(key, memberships[key])
            self.stdout.write(f"{label:<26}{left:<44}{right}")
        broadcast = report["broadcast"]
        self.stdout.write("")
        if broadcast is None:
            self.stdout.write("Broadcast of invalidations: off.")
        else:
            state = "listening" if broadcast["listening"] else "not listening"
            if not broadcast["wanted"]:
                state += " (only server processes listen)"
            self.stdout.write(
                f"Broadcast of invalidations: LISTEN/NOTIFY on {broadcast['channel']}; "
                f"this process is {state}; heard {broadcast['received']} from other "
                f"processes; connection failures {broadcast['connection_failures']}."
            )


def _show(key: str, value: Any) -> str:
    if value is None:
        return {
            "hit_rate": "n/a (no lookups yet)",
            "max_entries": "n/a (the server's memory policy)",
        }.get(key, "n/a (the backend cannot tell)")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "hit_rate":
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
