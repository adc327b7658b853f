"""Whether a kept payload names a person (erasure): one of their contacts in any format, or one
of their DMS ids, anywhere in it.

The comparison is by keyed digest (`tokens.keyed_digest`, HMAC under the link-signing key), so
the person's identifiers can go to another function — the import worker that reads uploaded
files — without being on a queue in clear.
"""

from trigly.platform import tokens
from trigly.profiles.contacts import normalize_phone
from trigly.profiles.model import CustomerProfile, known_external_ids

NAMESPACE = "erasure"
MIN_PHONE_DIGITS = 5  # shorter numbers are no phone anyone could be reached at
MAX_PHONE_CHARS = 40


def _digest(form: str) -> str:
    return tokens.keyed_digest(NAMESPACE, form)


def digests_of(person: CustomerProfile) -> list[str]:
    """The person's DMS ids, emails and phones (as stored: E.164, lower case), digested."""
    forms = {f"id:{external}" for _, external in known_external_ids(person)}
    forms |= {f"email:{c.value}" for c in person.emails}
    forms |= {f"phone:{c.value}" for c in person.phones}
    return sorted(_digest(form) for form in forms)


def _forms(text: str, country: str) -> list[str]:
    forms = [f"id:{text}", f"email:{text.lower()}"]
    digits = sum(ch.isdigit() for ch in text)
    if digits >= MIN_PHONE_DIGITS and len(text) <= MAX_PHONE_CHARS:
        forms.append(f"phone:{normalize_phone(text, country).value}")
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
