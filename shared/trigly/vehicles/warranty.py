"""Factory warranty terms by make (new cars), for the warranty-end date of a car sold new.

Terms as the makes publish them for Russia (years, km; whichever comes first); an unknown make
gets the common 3 years. The lifecycle work makes this tenant-editable.
"""

from datetime import date

WARRANTY_YEARS = {
    "KIA": 5,
    "HYUNDAI": 5,
    "GENESIS": 5,
    "HAVAL": 5,
    "CHERY": 5,
    "EXEED": 5,
    "GEELY": 5,
    "CHANGAN": 5,
    "OMODA": 5,
    "LADA": 3,
    "TOYOTA": 3,
    "LEXUS": 3,
    "SKODA": 3,
    "VOLKSWAGEN": 3,
    "BMW": 3,
    "MERCEDES-BENZ": 2,
}
DEFAULT_YEARS = 3


def warranty_ends_on(make: str | None, sold_on: date) -> date:
    years = WARRANTY_YEARS.get((make or "").upper(), DEFAULT_YEARS)
    try:
        return sold_on.replace(year=sold_on.year + years)
    except ValueError:  # 29 February
        return sold_on.replace(year=sold_on.year + years, day=28)
