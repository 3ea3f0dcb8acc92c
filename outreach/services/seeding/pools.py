"""Faker-made pools, built once per seed: names, streets, cities and phone prefixes.

Faker fr_FR makes a few thousand businesses a second when called per row; the seed instead draws
from these pools with a seeded `random.Random`, which is two orders of magnitude faster and just
as French. Every pool is deterministic for a given seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from faker import Faker

from outreach.domain.geography import DEPARTMENTS, DEPARTMENTS_BY_CODE
from outreach.domain.phones import COUNTRY_CODES, DEPARTMENT_REGIONS, parse_phone

# Metropolitan fixed lines by zone: 01 Île-de-France, 02 North-West, 03 North-East,
# 04 South-East and Corsica, 05 South-West.
_ZONE_OF_CHAMBER = {
    "IDF": "1",
    "BRE": "2",
    "NOR": "2",
    "PDL": "2",
    "CVL": "2",
    "HDF": "3",
    "GES": "3",
    "ALS": "3",
    "MOS": "3",
    "BFC": "3",
    "ARA": "4",
    "PAC": "4",
    "COR": "4",
    "NAQ": "5",
    "OCC": "5",
}
# Eastern Occitanie (former Languedoc-Roussillon) dials 04.
_ZONE_4_IN_OCCITANIE = frozenset({"11", "30", "34", "48", "66"})

# National prefixes (after the 0) of the overseas départements: (fixed, mobiles).
_OVERSEAS_PREFIXES = {
    "971": ("590", ("690",)),
    "972": ("596", ("696",)),
    "973": ("594", ("694",)),
    "974": ("262", ("692", "693")),
    "976": ("269", ("639",)),
}
_PLACES = (
    "du Centre",
    "de la Place",
    "de la Gare",
    "du Marché",
    "des Halles",
    "du Port",
    "de l'Église",
    "du Château",
    "du Pont",
    "des Tilleuls",
)
NOTES = (
    "Gérant absent, rappeler en fin de matinée",
    "Demande un devis pour un site internet",
    "Intéressé par le clic et collecte",
    "Ne souhaite pas être rappelé avant décembre",
    "A déjà une page Facebook",
    "Numéro du gérant transmis par la secrétaire",
    "Activité partielle, livraisons seulement",
    "Souhaite des informations sur le fonds de solidarité",
)


def fixed_zone(department: str) -> str:
    """The first digit after 0 of a metropolitan fixed line in `department` (1 to 5)."""
    dep = DEPARTMENTS_BY_CODE[department]
    if dep.chamber == "OCC":
        return "4" if department in _ZONE_4_IN_OCCITANIE else "5"
    return _ZONE_OF_CHAMBER[dep.chamber]


@dataclass(frozen=True)
class Pools:
    last_names: tuple[str, ...]
    first_names: tuple[str, ...]
    streets: tuple[str, ...]
    places: tuple[str, ...]
    # département -> (city, postcode) pairs
    cities: dict[str, tuple[tuple[str, str], ...]]
    # département -> E.164 prefixes to which random digits are appended: (prefix, free digits)
    fixed: dict[str, tuple[tuple[str, int], ...]]
    mobile: dict[str, tuple[tuple[str, int], ...]]
    email_domains: tuple[str, ...]


def _unique(make: Callable[[], str], count: int, tries: int) -> tuple[str, ...]:
    """Up to `count` distinct values of `make()`; stops early once it keeps repeating itself."""
    seen: dict[str, None] = {}
    stale = 0
    for _ in range(tries):
        value = make()
        if value in seen:
            stale += 1
            if stale > 1500:
                break
            continue
        seen[value] = None
        stale = 0
        if len(seen) >= count:
            break
    return tuple(seen)


def _valid_prefixes(
    rng: random.Random, department: str, national_leads: tuple[str, ...], length: int, count: int
) -> tuple[tuple[str, int], ...]:
    """E.164 prefixes (national number `length` digits long) that `parse_phone` stores as is."""
    region = DEPARTMENT_REGIONS.get(department, "FR")
    code = str(COUNTRY_CODES[region])
    found: dict[tuple[str, int], None] = {}
    for _ in range(count * 40):
        lead = rng.choice(national_leads)
        nsn_prefix = lead + "".join(rng.choice("0123456789") for _ in range(length - len(lead)))
        free = 9 - length
        ok = True
        for _ in range(3):
            nsn = nsn_prefix + "".join(rng.choice("0123456789") for _ in range(free))
            e164 = f"+{code}{nsn}"
            try:
                parsed = parse_phone("0" + nsn, department)
            except ValueError:
                ok = False
                break
            number = phonenumbers.parse(e164, None)
            if parsed != e164 or phonenumbers.region_code_for_number(number) != region:
                ok = False
                break
        if ok:
            found[(f"+{code}{nsn_prefix}", free)] = None
            if len(found) >= count:
                break
    if not found:
        raise AssertionError(f"no valid phone prefix for {department} {national_leads}")
    return tuple(found)


# Faker glues surnames to suffixes ("RodriguezVille"); keep the names that read like towns.
_GLUED = re.compile(r"[a-zé][A-Z]|Da Costa")


def _cities(rng: random.Random, fake: Faker) -> dict[str, tuple[tuple[str, str], ...]]:
    names = [n for n in _unique(fake.city, 6000, 30000) if not _GLUED.search(n)]
    rng.shuffle(names)
    per_dep = max(8, min(40, len(names) // len(DEPARTMENTS)))
    cities: dict[str, tuple[tuple[str, str], ...]] = {}
    for i, dep in enumerate(DEPARTMENTS):
        if dep.code == "75":
            cities["75"] = tuple(("Paris", f"750{n:02d}") for n in range(1, 21))
            continue
        chunk = names[i * per_dep : (i + 1) * per_dep] or names[:per_dep]
        if dep.code in ("2A", "2B"):
            base, span = (20000, 19) if dep.code == "2A" else (20200, 49)
            codes = [f"{base + 10 * rng.randrange(span + 1):05d}" for _ in chunk]
        elif len(dep.code) == 3:
            codes = [f"{dep.code}{10 * rng.randrange(1, 10):02d}" for _ in chunk]
        else:
            codes = [f"{dep.code}{10 * rng.randrange(100):03d}" for _ in chunk]
        codes[0] = f"{dep.code}00" if len(dep.code) == 3 else codes[0]
        cities[dep.code] = tuple(zip(chunk, codes, strict=True))
    return cities


def make_pools(seed: int) -> Pools:
    """The pools for `seed` (about a second of Faker work)."""
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rng = random.Random(seed ^ 0x5EED)
    fixed: dict[str, tuple[tuple[str, int], ...]] = {}
    mobile: dict[str, tuple[tuple[str, int], ...]] = {}
    metro_mobile: tuple[tuple[str, int], ...] | None = None
    for dep in DEPARTMENTS:
        if dep.code in _OVERSEAS_PREFIXES:
            fixed_lead, mobile_leads = _OVERSEAS_PREFIXES[dep.code]
            fixed[dep.code] = _valid_prefixes(rng, dep.code, (fixed_lead,), 6, 30)
            mobile[dep.code] = _valid_prefixes(rng, dep.code, mobile_leads, 6, 30)
        else:
            fixed[dep.code] = _valid_prefixes(rng, dep.code, (fixed_zone(dep.code),), 4, 25)
            if metro_mobile is None:
                metro_mobile = _valid_prefixes(rng, dep.code, ("6", "7"), 4, 200)
            mobile[dep.code] = metro_mobile
    return Pools(
        last_names=_unique(fake.last_name, 3000, 20000),
        first_names=_unique(fake.first_name, 1000, 10000),
        streets=_unique(fake.street_name, 4000, 12000),
        places=_PLACES,
        cities=_cities(rng, fake),
        fixed=fixed,
        mobile=mobile,
        email_domains=("orange.fr", "wanadoo.fr", "gmail.com", "free.fr", "sfr.fr", "laposte.net"),
    )
