"""Phone numbers are stored in E.164; this is the one place that reads them."""

from __future__ import annotations

import phonenumbers

# E.164 allows at most 15 digits (country code included). The phone columns are
# varchar(16): the '+' and those 15 digits. ``phonenumbers`` calls some longer
# numbers "possible" (national numbering plans with long extensions: DE, KR, ID,
# JP, UY...), so the length is checked here, where every number is read, rather
# than left to the database to refuse with an error the client never sees.
E164_MAX_DIGITS = 15
E164_MAX_LENGTH = E164_MAX_DIGITS + 1
E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, *, default_region: str) -> str:
    """Normalise ``raw`` (any common format) to E.164, e.g. ``'+972501234567'``.

    ``default_region`` (ISO country code) reads numbers written without a country code.
    Raises ``InvalidPhoneNumber`` for anything that is not a possible phone number or
    whose E.164 form has more than 15 digits.
    """
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"'{raw}' is not a phone number.") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(f"'{raw}' is not a possible phone number.")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if len(e164) > E164_MAX_LENGTH:
        raise InvalidPhoneNumber(
            f"'{raw}' has more than {E164_MAX_DIGITS} digits, the most E.164 allows."
        )
    return e164
