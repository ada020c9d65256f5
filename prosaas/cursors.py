"""The text of a keyset cursor, and the checks that make a crafted one a 400.

A cursor is URL-safe base64 of a small JSON object: the ordering it belongs to
(``s``), the boundary row's key (``k``: every sort value, then the id) and whether it
walks backwards (``r``). It is opaque to clients but not secret: it holds only values
of a row the client has already seen, and the tenant filter runs before it anyway.
Every value is checked against the column it will be compared with, so a tampered
cursor fails here as a 400 rather than in the database as a 500.
"""

from __future__ import annotations

import binascii
import json
from base64 import b64decode, urlsafe_b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Field
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from prosaas.keyset import Key, KeysetOrdering

# Far above any real cursor (a 200-character name is the longest key part), far below
# what would make decoding it cost anything.
MAX_CURSOR_LENGTH = 2048

INTEGER_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)
TEXT_FIELDS = frozenset({"CharField", "TextField", "EmailField", "SlugField"})


class InvalidCursor(ValueError):
    """The cursor does not decode, belongs to another ordering, or holds a bad value."""


@dataclass(frozen=True)
class KeysetCursor:
    key: Key
    reverse: bool = False


def encode(cursor: KeysetCursor, ordering: KeysetOrdering) -> str:
    payload: dict[str, Any] = {"s": ordering.tag, "k": [_to_json(v) for v in cursor.key]}
    if cursor.reverse:
        payload["r"] = 1
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode(text: str, ordering: KeysetOrdering, fields: Sequence[Field]) -> KeysetCursor:
    """The cursor in ``text``, its key converted to the types of ``fields``."""
    if len(text) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("too long")
    try:
        raw = b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        payload = json.loads(raw.decode("ascii"))
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise InvalidCursor("does not decode") from error
    if not isinstance(payload, dict) or not set(payload) <= {"s", "k", "r"}:
        raise InvalidCursor("not a cursor")
    if payload.get("s") != ordering.tag:
        raise InvalidCursor("another ordering's cursor")
    reverse = payload.get("r", 0)
    values = payload.get("k")
    if reverse not in (0, 1) or isinstance(reverse, bool) or not isinstance(values, list):
        raise InvalidCursor("not a cursor")
    if len(values) != len(ordering.keys):
        raise InvalidCursor("wrong key length")
    key = tuple(
        _from_json(value, field, nullable=sort_key.nulls_as is not None)
        for value, field, sort_key in zip(values, fields, ordering.keys, strict=True)
    )
    return KeysetCursor(key=key, reverse=bool(reverse))


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _from_json(value: Any, field: Field, *, nullable: bool) -> Any:
    if value is None:
        if nullable:
            return None
        raise InvalidCursor("NULL in a column that has none")
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return _datetime(value)
    if kind in INTEGER_FIELDS:
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidCursor("not a whole number")
        return _checked(field, value)
    if kind in TEXT_FIELDS:
        if not isinstance(value, str) or "\x00" in value:
            raise InvalidCursor("not text PostgreSQL can hold")
        return _checked(field, value)
    raise InvalidCursor(f"no cursor values of type {kind}")


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidCursor("not a timestamp")
    try:
        parsed = parse_datetime(value)
    except ValueError as error:  # well formed, impossible (month 13)
        raise InvalidCursor("not a timestamp") from error
    if parsed is None or timezone.is_naive(parsed):
        raise InvalidCursor("not a timestamp with an offset")
    return parsed


def _checked(field: Field, value: Any) -> Any:
    """``value`` if the column can hold it (integer range, text length)."""
    try:
        field.run_validators(value)
    except ValidationError as error:
        raise InvalidCursor("out of the column's range") from error
    return value
