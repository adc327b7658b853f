"""Maintenance plans: when each scheduled service (ТО) falls due and what work it includes.

A plan is an interval in km and in months, whichever comes first, with an optional exception for
the first service (Geely's 3,000 km run-in service; WEY's first at 10,000 km and then every
15,000). The built-in catalogue holds what the makes publish for Russia (sources in
docs/lifecycle.md); a tenant overrides it per make or per make+model, and an unknown make gets
15,000 km / 12 months, the most common schedule on the Russian market.
"""

from collections.abc import Sequence

from pydantic import BaseModel, Field, model_validator

DEFAULT_INTERVAL_KM = 15_000
DEFAULT_INTERVAL_MONTHS = 12
ANY_MAKE = "*"

# Spellings that DMSs send for one make.
MAKE_ALIASES = {
    "MERCEDES": "MERCEDES-BENZ",
    "MERCEDES BENZ": "MERCEDES-BENZ",
    "MB": "MERCEDES-BENZ",
    "VW": "VOLKSWAGEN",
    "ВАЗ": "LADA",
    "VAZ": "LADA",
    "ЛАДА": "LADA",
    "LADA (ВАЗ)": "LADA",
    "КИА": "KIA",
    "ХЕНДЭ": "HYUNDAI",
    "ХЕНДАЙ": "HYUNDAI",
    "ШКОДА": "SKODA",
    "ŠKODA": "SKODA",
    "ТОЙОТА": "TOYOTA",
    "РЕНО": "RENAULT",
    "ХАВАЛ": "HAVAL",
    "ДЖИЛИ": "GEELY",
    "ЧЕРИ": "CHERY",
    "ЧАНГАН": "CHANGAN",
    "GREAT WALL": "HAVAL",
}


def normalize_name(name: str | None) -> str | None:
    """Upper case, single spaces; None for an empty name."""
    cleaned = " ".join((name or "").split()).upper()
    return cleaned or None


def normalize_make(make: str | None) -> str | None:
    name = normalize_name(make)
    return MAKE_ALIASES.get(name, name) if name else None


class WorkItem(BaseModel):
    """A recurring job of the schedule: done at the step that reaches the next multiple of its
    km or of its months (whichever comes first); `every_km`/`every_months` None = not by that."""

    name: str
    every_km: int | None = None
    every_months: int | None = None


# The generic schedule a plan uses unless the tenant names the work per step. Oil and the
# inspection go at every service; the rest at the common intervals of current petrol cars.
GENERIC_WORKS: tuple[WorkItem, ...] = (
    WorkItem(name="замена моторного масла и масляного фильтра", every_km=1, every_months=1),
    WorkItem(name="осмотр тормозов, подвески, рулевого и уровней жидкостей", every_km=1),
    WorkItem(name="замена салонного фильтра", every_km=15_000, every_months=12),
    WorkItem(name="замена воздушного фильтра двигателя", every_km=30_000, every_months=24),
    WorkItem(name="замена тормозной жидкости", every_months=24),
    WorkItem(name="замена свечей зажигания", every_km=60_000, every_months=48),
    WorkItem(name="замена рабочей жидкости АКПП/вариатора", every_km=90_000),
    WorkItem(name="замена охлаждающей жидкости", every_km=120_000, every_months=60),
)


class PlanStep(BaseModel):
    """One scheduled service; `number` 1 is ТО-1."""

    number: int
    due_km: int  # odometer at which it is due
    due_months: int  # months after the car's start (sale or first registration)
    service: str  # e.g. "ТО-2 (30 000 км)"
    works: list[str]


def _cycles(item: WorkItem, km: int, months: int) -> int:
    """How many times the item has fallen due by (km, months), whichever comes first."""
    by_km = km // item.every_km if item.every_km else 0
    by_months = months // item.every_months if item.every_months else 0
    return max(by_km, by_months)


class MaintenancePlan(BaseModel):
    make: str  # normalized make, or "*" for the default plan
    model: str | None = None
    interval_km: int = Field(gt=0)
    interval_months: int = Field(gt=0)
    first_km: int | None = Field(default=None, gt=0)  # first-service exception
    first_months: int | None = Field(default=None, gt=0)
    # False: after the first service the schedule runs on multiples of the interval (Geely:
    # 3,000 then 10,000, 20,000); True: every interval counted from the first (WEY: 10,000 then
    # 25,000, 40,000).
    counted_from_first: bool = False
    condition_based: bool = False  # the car's own service indicator governs (BMW CBS)
    works: dict[int, list[str]] = Field(default_factory=dict)  # per step number, overrides generic
    source: str | None = None  # where the numbers come from

    @model_validator(mode="after")
    def _first_before_the_rest(self) -> "MaintenancePlan":
        """A first-service exception is given by its km; its months default to the same share
        of the interval, so every step falls due later than the one before, in km and in time."""
        if self.first_km is None:
            if self.first_months is not None:
                raise ValueError("first_months needs first_km")
            return self
        if self.counted_from_first:
            self.first_months = self.first_months or self.interval_months
            return self
        if self.first_km >= self.interval_km:
            raise ValueError("first_km must be below interval_km unless counted_from_first")
        share = round(self.interval_months * self.first_km / self.interval_km)
        self.first_months = self.first_months or max(1, min(self.interval_months - 1, share))
        if self.first_months >= self.interval_months:
            raise ValueError("first_months must be below interval_months")
        return self

    @property
    def has_first_exception(self) -> bool:
        return self.first_km is not None

    def due(self, number: int) -> tuple[int, int]:
        """(km, months) at which step `number` (≥ 1) falls due."""
        if number < 1:
            raise ValueError("maintenance steps are numbered from 1")
        if not self.has_first_exception:
            return number * self.interval_km, number * self.interval_months
        first_km = self.first_km or self.interval_km
        first_months = self.first_months or self.interval_months  # set by the validator
        if number == 1:
            return first_km, first_months
        if self.counted_from_first:
            return (
                first_km + (number - 1) * self.interval_km,
                first_months + (number - 1) * self.interval_months,
            )
        return (number - 1) * self.interval_km, (number - 1) * self.interval_months

    def step(self, number: int) -> PlanStep:
        km, months = self.due(number)
        return PlanStep(
            number=number,
            due_km=km,
            due_months=months,
            service=f"ТО-{number} ({km:,} км)".replace(",", " "),
            works=self.works_for(number),
        )

    def works_for(self, number: int) -> list[str]:
        if number in self.works:
            return list(self.works[number])
        km, months = self.due(number)
        before_km, before_months = self.due(number - 1) if number > 1 else (0, 0)
        if self.condition_based:
            return [
                "работы по показаниям системы обслуживания по состоянию (CBS)",
                GENERIC_WORKS[0].name,
            ]
        return [
            item.name
            for item in GENERIC_WORKS
            if _cycles(item, km, months) > _cycles(item, before_km, before_months)
        ]

    def nearest_step(self, km: int) -> int:
        """The step (≥ 1) whose due km is nearest `km`; a tie goes to the later step."""
        number = 1
        while self.due(number + 1)[0] <= km:
            number += 1
        below = self.due(number)[0]
        above = self.due(number + 1)[0]
        return number + 1 if km - below >= above - km else number

    def matches(self, make: str | None, model: str | None) -> bool:
        return self.make == normalize_make(make) and (
            self.model is None or self.model == normalize_name(model)
        )


def _plan(make: str, km: int, months: int, source: str, **extra: object) -> MaintenancePlan:
    return MaintenancePlan.model_validate(
        {"make": make, "interval_km": km, "interval_months": months, "source": source, **extra}
    )


_DEALER_BOOK = "сервисная книжка / регламент ТО марки для России"
CATALOGUE: tuple[MaintenancePlan, ...] = (
    _plan("KIA", 15_000, 12, _DEALER_BOOK),
    _plan("HYUNDAI", 15_000, 12, _DEALER_BOOK),
    _plan("GENESIS", 15_000, 12, _DEALER_BOOK),
    _plan("LADA", 15_000, 12, "LADA Vesta/Granta/Largus/Niva: сервисная книжка, 15 000 км / 1 год"),
    _plan("SKODA", 15_000, 12, "фиксированный интервал для России (без LongLife)"),
    _plan("VOLKSWAGEN", 15_000, 12, "фиксированный интервал для России (без LongLife)"),
    _plan("AUDI", 15_000, 12, "фиксированный интервал для России (без LongLife)"),
    _plan("TOYOTA", 15_000, 12, _DEALER_BOOK),
    _plan("LEXUS", 15_000, 12, _DEALER_BOOK),
    _plan("RENAULT", 15_000, 12, _DEALER_BOOK),
    _plan("NISSAN", 15_000, 12, _DEALER_BOOK),
    _plan("MITSUBISHI", 15_000, 12, _DEALER_BOOK),
    _plan("MAZDA", 15_000, 12, _DEALER_BOOK),
    _plan("MERCEDES-BENZ", 15_000, 12, "ASSYST, российский регламент: до 15 000 км / 1 год"),
    _plan(
        "BMW",
        30_000,
        24,
        "CBS: по состоянию, не реже 30 000 км / 2 лет; индикатор машины главнее",
        condition_based=True,
    ),
    _plan("MINI", 30_000, 24, "CBS, как у BMW", condition_based=True),
    _plan(
        "GEELY",
        10_000,
        12,
        "ТО-0 3 000 км / 3 мес., далее каждые 10 000 км / 12 мес.",
        first_km=3_000,
        first_months=3,
    ),
    _plan("HAVAL", 10_000, 12, "Haval F7/Jolion/Dargo: каждые 10 000 км / 12 мес."),
    _plan("TANK", 10_000, 12, "как Haval (Great Wall)"),
    _plan(
        "WEY",
        15_000,
        12,
        "график ТО WEY 05: 10 000, 25 000, 40 000 км… / каждые 12 мес.",
        first_km=10_000,
        first_months=12,
        counted_from_first=True,
    ),
    _plan("CHERY", 10_000, 12, "Chery Tiggo: 10 000 км / 1 год"),
    _plan("EXEED", 10_000, 12, "платформа T1X, регламент как у Chery"),
    _plan("OMODA", 10_000, 12, "платформа T1X, регламент как у Chery"),
    _plan("JAECOO", 10_000, 12, "платформа T1X, регламент как у Chery"),
    _plan("CHANGAN", 10_000, 12, "10 000 км / 12 мес. (проверить по книжке модели)"),
)

DEFAULT_PLAN = _plan(
    ANY_MAKE,
    DEFAULT_INTERVAL_KM,
    DEFAULT_INTERVAL_MONTHS,
    "по умолчанию для неизвестной марки: самый распространённый интервал",
)


def _find(
    plans: Sequence[MaintenancePlan], make: str | None, model: str | None
) -> MaintenancePlan | None:
    normalized_make, normalized_model = normalize_make(make), normalize_name(model)
    if normalized_make is None:
        return None
    by_model = [
        p
        for p in plans
        if p.make == normalized_make and p.model is not None and p.model == normalized_model
    ]
    if by_model:
        return by_model[-1]
    by_make = [p for p in plans if p.make == normalized_make and p.model is None]
    return by_make[-1] if by_make else None


def plan_for(
    make: str | None, model: str | None, overrides: Sequence[MaintenancePlan] = ()
) -> MaintenancePlan:
    """The plan for a car: the tenant's make+model plan, then the tenant's make plan, then the
    built-in catalogue (model, then make), then the default for unknown makes. A tenant's plan
    with make "*" replaces the default. Plans given with raw names are matched normalized."""
    tenant = [_normalized(p) for p in overrides]
    found = _find(tenant, make, model) or _find(CATALOGUE, make, model)
    if found is not None:
        return found
    tenant_default = [p for p in tenant if p.make == ANY_MAKE]
    base = tenant_default[-1] if tenant_default else DEFAULT_PLAN
    return base.model_copy(update={"make": normalize_make(make) or ANY_MAKE, "model": None})


def _normalized(plan: MaintenancePlan) -> MaintenancePlan:
    make = ANY_MAKE if plan.make == ANY_MAKE else (normalize_make(plan.make) or ANY_MAKE)
    return plan.model_copy(update={"make": make, "model": normalize_name(plan.model)})
