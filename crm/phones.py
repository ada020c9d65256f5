"""Phone numbers are stored in E.164; this is the one place that reads them."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, *, default_region: str) -> str:
    """Normalise ``raw`` (any common format) to E.164, e.g. ``'+972501234567'``.

    ``default_region`` (ISO country code) reads numbers written without a country code.
    Raises ``InvalidPhoneNumber`` for anything that is not a possible phone number.
    """
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"'{raw}' is not a phone number.") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(f"'{raw}' is not a possible phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
