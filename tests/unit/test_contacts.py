import pytest

from trigly.profiles.contacts import (
    ContactStatus,
    normalize_email,
    normalize_phone,
    phone_search_key,
)


@pytest.mark.parametrize(
    "raw",
    ["8 (912) 345-67-89", "+7 912 3456789", "89123456789", "+7(912)345-67-89", "9123456789"],
)
def test_russian_phones_in_any_human_format_normalize_to_e164(raw: str) -> None:
    # Given a phone as a Russian DMS types it, When normalized with RU as the default country
    contact = normalize_phone(raw, "RU")
    # Then it is one E.164 number
    assert contact.value == "+79123456789"
    assert contact.status is ContactStatus.OK


def test_foreign_number_keeps_its_own_country() -> None:
    assert normalize_phone("+49 30 901820", "RU").value == "+4930901820"


@pytest.mark.parametrize("raw", ["12345", "not a phone", "+7 000"])
def test_unusable_phone_is_kept_and_flagged_invalid(raw: str) -> None:
    contact = normalize_phone(raw, "RU")
    assert contact.status is ContactStatus.INVALID
    assert contact.value == raw


def test_email_is_lower_cased_and_validated() -> None:
    assert normalize_email("  Ivan.Petrov@Example.COM ").value == "ivan.petrov@example.com"
    assert normalize_email("ivan@").status is ContactStatus.INVALID


def test_search_key_is_none_for_text_that_cannot_be_a_phone() -> None:
    assert phone_search_key("8 912 345 67 89", "RU") == "+79123456789"
    assert phone_search_key("abc", "RU") is None
