"""Contact normalization: phones to E.164 with the tenant's default country, emails lower-cased.

An unusable contact never rejects an event; it is kept with status `invalid` so the dealer sees it.

phonenumbers and email_validator are imported by the function that uses each: most events carry
neither a phone nor an email, and the two were 35–55 ms of the ingest and journey workers' cold
start (ADR 0019).
"""

from enum import StrEnum

from trigly.platform.models import DeferredModel


class ContactStatus(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    STALE = "stale"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class Contact(DeferredModel):
    value: str
    status: ContactStatus


def normalize_phone(raw: str, default_country: str) -> Contact:
    """`8 (912) 345-67-89` with RU → `+79123456789`; anything unparseable is `invalid`, as given."""
    import phonenumbers

    text = raw.strip()
    try:
        number = phonenumbers.parse(text, default_country)
    except phonenumbers.NumberParseException:
        return Contact(value=text, status=ContactStatus.INVALID)
    if not phonenumbers.is_valid_number(number):
        return Contact(value=text, status=ContactStatus.INVALID)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Contact(value=e164, status=ContactStatus.OK)


def normalize_email(raw: str) -> Contact:
    from email_validator import EmailNotValidError, validate_email

    text = raw.strip()
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return Contact(value=text.lower(), status=ContactStatus.INVALID)
    return Contact(value=valid.normalized.lower(), status=ContactStatus.OK)


def phone_search_key(raw: str, default_country: str) -> str | None:
    """A phone typed into search, normalized like inputs; None when it cannot be a phone."""
    contact = normalize_phone(raw, default_country)
    return contact.value if contact.status is ContactStatus.OK else None


def email_search_key(raw: str) -> str | None:
    contact = normalize_email(raw)
    return contact.value if contact.status is ContactStatus.OK else None
