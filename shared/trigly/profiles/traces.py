"""Whether a kept payload names a person (erasure): one of their contacts in any format, or one
of their DMS ids, anywhere in it.

The comparison is by keyed digest (HMAC under the suppression list's key, which never rotates, so
a link-key rotation between the erasure and the import worker's look cannot hide a match), so the
person's identifiers can go to another function — the import worker that reads uploaded files —
without being on a queue in clear.
"""

import re

from trigly.platform import tokens
from trigly.profiles.contacts import normalize_phone
from trigly.profiles.model import CustomerProfile, known_external_ids

NAMESPACE = "erasure"
# Phones and emails anywhere in a text (a cell with two phones, a comment with an address):
# a run of at least MIN_PHONE_DIGITS digits with the usual separators, and anything@anything.
PHONE_LIKE = re.compile(r"\+?\d[\d\s()\-]{5,}\d")
MIN_PHONE_DIGITS = 8
EMAIL_LIKE = re.compile(r"[^\s,;:<>()\[\]\"']+@[^\s,;:<>()\[\]\"']+")


def _digest(form: str) -> str:
    return tokens.suppression_digest(NAMESPACE, form)


def digests_of(person: CustomerProfile) -> list[str]:
    """The person's DMS ids, emails and phones (as stored: E.164, lower case), digested."""
    forms = {f"id:{external}" for _, external in known_external_ids(person)}
    forms |= {f"email:{c.value}" for c in person.emails}
    forms |= {f"phone:{c.value}" for c in person.phones}
    return sorted(_digest(form) for form in forms)


def _forms(text: str, country: str) -> list[str]:
    forms = [f"id:{text}"]
    forms += [f"email:{m.group().lower()}" for m in EMAIL_LIKE.finditer(text)]
    for match in PHONE_LIKE.finditer(text):
        candidate = match.group()
        if sum(ch.isdigit() for ch in candidate) >= MIN_PHONE_DIGITS:  # parsing is the cost
            forms.append(f"phone:{normalize_phone(candidate, country).value}")
    return forms


def mentions(value: object, digests: set[str], country: str) -> bool:
    """Whether any string in a JSON-like value is one of the digested identifiers."""
    if isinstance(value, dict):
        return any(mentions(v, digests, country) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, digests, country) for v in value)
    if not isinstance(value, str) or not value.strip():
        return False
    return any(_digest(form) in digests for form in _forms(value.strip(), country))
