"""A customer's recent activity, derived from the latest row of each channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_RECENT_ACTIVITY = 3

Row = Mapping[str, Any]


@dataclass(frozen=True)
class ActivityItem:
    type: str  # "lead", "call" or "whatsapp"
    id: int
    status: str
    timestamp: datetime


def recent_activity(
    *, latest_lead: Row | None, last_call: Row | None, last_whatsapp: Row | None
) -> list[ActivityItem]:
    """Newest first, at most three: the latest lead, call and WhatsApp message.

    A row's time is its ``created_at``. Equal times keep the order lead, call, WhatsApp
    (the sort is stable), so the answer never depends on the database.
    """
    channels = (("lead", latest_lead), ("call", last_call), ("whatsapp", last_whatsapp))
    items = [
        ActivityItem(type=kind, id=row["id"], status=row["status"], timestamp=row["created_at"])
        for kind, row in channels
        if row is not None
    ]
    items.sort(key=lambda item: item.timestamp, reverse=True)
    return items[:MAX_RECENT_ACTIVITY]


def last_interaction(
    *, latest_lead: Row | None, last_call: Row | None, last_whatsapp: Row | None
) -> datetime | None:
    """When the customer last had a lead, a call or a WhatsApp message; None if never."""
    items = recent_activity(
        latest_lead=latest_lead, last_call=last_call, last_whatsapp=last_whatsapp
    )
    return items[0].timestamp if items else None
