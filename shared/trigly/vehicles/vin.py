"""Vehicle identifiers: 17-character VINs and Japanese chassis (frame) numbers.

A VIN is 17 letters and digits without I, O or Q; its check digit is not required, because
outside North America it is often wrong. Japanese-market cars, common in Russia's east, carry a
frame number instead (`NZE141-1234567`: a model code, a dash, 4-8 digits).
"""

import re
from dataclasses import dataclass

VIN_LENGTH = 17
VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
FRAME_NUMBER_RE = re.compile(r"^[A-Z][A-Z0-9]{1,7}-[0-9]{4,8}$")
ACCEPTED_FORMS = (
    "a 17-character VIN (letters and digits, no I, O or Q) "
    "or a Japanese frame number like NZE141-1234567"
)

# Operators often type a VIN's letters on a Russian keyboard; these look the same.
_CYRILLIC_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")
_DASHES = str.maketrans({"‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-"})
_SPACES = re.compile(r"\s+")

# Manufacturer names as a Russian dealer says them, where vininfo names the plant's owner.
_MAKE_ALIASES = {"AvtoVAZ": "Lada"}
# Russian assembly plants vininfo does not know (WMI -> make).
_EXTRA_WMI = {
    "X4X": "BMW",  # Avtotor, Kaliningrad
    "X9F": "Ford",  # Ford Sollers
    "XTH": "GAZ",
    "XTT": "UAZ",
    "XW7": "Toyota",  # Toyota Motor Manufacturing Russia
    "Z8N": "Nissan",  # Nissan Manufacturing Rus
}


@dataclass(frozen=True)
class VinInfo:
    """What a VIN tells about the car, where it can be told (a hint, never authoritative)."""

    make: str | None = None
    year: int | None = None
    country: str | None = None


def _canonical(raw: str) -> str:
    text = raw.upper().translate(_CYRILLIC_LOOKALIKES).translate(_DASHES)
    return _SPACES.sub("", text)


def normalize_vehicle_id(raw: str) -> str:
    """The car's identifier upper-cased and trimmed; ValueError names what is accepted."""
    value = _canonical(raw)
    if VIN_RE.fullmatch(value) or FRAME_NUMBER_RE.fullmatch(value):
        return value
    if "-" not in value and len(value) != VIN_LENGTH:
        raise ValueError(f"must be {ACCEPTED_FORMS}; got {len(value)} characters")
    if len(value) == VIN_LENGTH and re.fullmatch(r"[A-Z0-9]{17}", value):
        raise ValueError(f"must be {ACCEPTED_FORMS}; a VIN never contains I, O or Q")
    raise ValueError(f"must be {ACCEPTED_FORMS}")


def is_frame_number(value: str) -> bool:
    """Whether a (normalized or raw) identifier is a Japanese frame number rather than a VIN."""
    return FRAME_NUMBER_RE.fullmatch(_canonical(value)) is not None


def decode_vin(vin: str) -> VinInfo:
    """Make, model year and country of assembly where the VIN tells them; never raises.

    The model-year letter repeats every 30 years; the most recent year not after next year is
    taken. Frame numbers and anything that is not a VIN decode to nothing.
    """
    # Here, not at the top: every event schema checks VINs, only a car seen first decodes one
    # (vininfo's WMI tables were 4-12 ms of the webhook's and channel worker's cold start).
    from vininfo import Vin, VininfoException
    from vininfo.common import UnsupportedBrand

    value = _canonical(vin) if isinstance(vin, str) else ""
    if not VIN_RE.fullmatch(value):
        return VinInfo()
    try:
        decoded = Vin(value)
        assembler = decoded.assembler
        known = not isinstance(assembler, UnsupportedBrand)
        manufacturer = str(decoded.manufacturer) if known else None
        years = decoded.years
        country = decoded.country
    except (VininfoException, LookupError, ValueError, TypeError, AttributeError):
        return VinInfo()
    make = _EXTRA_WMI.get(value[:3]) or _MAKE_ALIASES.get(manufacturer or "", manufacturer)
    return VinInfo(
        make=make or None,
        year=int(years[0]) if years else None,
        country=str(country) if country else None,
    )
