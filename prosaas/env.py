"""Strict readers for environment variables.

django-environ parses URLs and lists well, but its ``bool``/``int`` casts either
silently turn a typo into ``False`` or fail with a message that does not say
which variable was wrong. These wrappers stop start-up naming the variable.
"""

from __future__ import annotations

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def read_bool(name: str, *, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of true/false, 1/0, yes/no, on/off."
    )


def read_int(
    name: str, *, default: int, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    _check_range(name, raw, value, minimum, maximum)
    return value


def read_float(
    name: str, *, default: float, minimum: float | None = None, maximum: float | None = None
) -> float:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number.")
    _check_range(name, raw, value, minimum, maximum)
    return value


_RATE_PERIODS = {"second", "minute", "hour", "day"}


def read_rate(name: str, *, default: str) -> str:
    """A DRF throttle rate: ``<requests>/<second|minute|hour|day>``, e.g. ``10/minute``."""
    raw = _raw(name)
    if raw is None:
        return default
    count, _, period = raw.partition("/")
    if not (count.isascii() and count.isdigit() and int(count) >= 1 and period in _RATE_PERIODS):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate; write <requests>/<second|minute|hour|day>, "
            "e.g. 10/minute."
        )
    return raw


def _check_range(
    name: str,
    raw: str,
    value: float,
    minimum: float | None,
    maximum: float | None,
) -> None:
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} is below the minimum of {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} is above the maximum of {maximum}.")


def parse_networks(
    name: str, raw: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated list of CIDRs (``10.0.0.0/8,::1/128``); empty means none."""
    networks = []
    for part in raw.split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ImproperlyConfigured(
                    f"{name}: {part.strip()!r} is not a network (CIDR, e.g. 10.0.0.0/8)."
                ) from None
    return tuple(networks)
