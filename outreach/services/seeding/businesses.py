"""Business rows drawn from the pools: French names and addresses, Luhn-valid SIRETs, phones."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from outreach.domain.text import fold
from outreach.domain.trades import TRADES
from outreach.services.seeding.pools import Pools

# Rough weight of each département in the artisan population (default 1.5).
DEPARTMENT_WEIGHTS: dict[str, float] = {
    "75": 8.0,
    "13": 6.0,
    "59": 7.0,
    "69": 6.0,
    "92": 4.5,
    "93": 4.5,
    "94": 4.0,
    "33": 5.0,
    "31": 4.5,
    "44": 4.0,
    "06": 4.5,
    "77": 4.5,
    "78": 4.0,
    "91": 4.0,
    "95": 4.0,
    "34": 4.0,
    "62": 4.0,
    "67": 3.5,
    "76": 3.5,
    "38": 4.0,
    "83": 3.5,
    "35": 3.0,
    "57": 3.0,
    "68": 2.5,
    "974": 2.5,
    "971": 1.2,
    "972": 1.1,
    "973": 0.6,
    "976": 0.6,
    "48": 0.4,
    "23": 0.5,
    "90": 0.6,
    "05": 0.7,
    "04": 0.8,
    "2A": 0.8,
    "2B": 0.8,
}

# Luhn by blocks of four digits: the weighted sum of a block whose last digit sits at an odd
# position from the right (doubled) or at an even one. Same rule as outreach.domain.siret
# (the tests check every seeded SIRET with it); a table keeps a million SIRETs under a second.
_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _block(n: int, last_doubled: bool) -> int:
    total = 0
    for i, ch in enumerate(reversed(f"{n:04d}")):
        d = ord(ch) - 48
        total += _DOUBLE[d] if (i % 2 == 0) == last_doubled else d
    return total


_ODD = tuple(_block(n, True) for n in range(10_000))
_EVEN = tuple(_block(n, False) for n in range(10_000))
# NIC bodies (the establishment's order number, before its check digit), head offices first.
_NICS = ("0001",) * 8 + ("0002",) * 4 + ("0003", "0004", "0005", "0010", "0011", "0012")
_NIC_SUMS = tuple(_ODD[int(nic)] for nic in _NICS)
_EMPLOYEES: tuple[int, ...] = (0,) * 52 + (1,) * 16 + (2,) * 9 + (3,) * 6 + (4,) * 4 + (5,) * 3
_EMPLOYEES += (6, 7, 8, 9, 10, 12, 14, 18, 25, 40)


def siret_of(body: int, nic_index: int) -> tuple[str, str]:
    """(SIREN, SIRET) for an 8-digit SIREN body: both pass the Luhn check."""
    hi, lo = divmod(body, 10_000)
    key = -(_ODD[hi] + _ODD[lo]) % 10
    siren = f"{body:08d}{key}"
    nic_key = -(_NIC_SUMS[nic_index] + _DOUBLE[key] + _EVEN[lo] + _EVEN[hi]) % 10
    return siren, f"{siren}{_NICS[nic_index]}{nic_key}"


# A name and its folded key are built from the same parts: fold("Boulangerie Martin") is
# fold("Boulangerie") + " " + fold("Martin"), so the key costs a concatenation (the tests check
# name_key == fold(name) on every seeded row).
Namer = Callable[[random.Random, str, str, str, str], tuple[str, str]]
_VOWELS = frozenset("AEIOUYÉÈÊÎÔÂH")


def _namers(pools: Pools) -> tuple[Namer, ...]:
    last, first, places = pools.last_names, pools.first_names, pools.places
    last_k = tuple(fold(x) for x in last)
    first_k = tuple(fold(x) for x in first)
    places_k = tuple(fold(x) for x in places)
    n_last, n_first, n_places = len(last), len(first), len(places)

    def word_last(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        i = int(r.random() * n_last)
        return f"{w} {last[i]}", f"{wk} {last_k[i]}"

    def word_first_last(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        i, j = int(r.random() * n_first), int(r.random() * n_last)
        return f"{w} {first[i]} {last[j]}", f"{wk} {first_k[i]} {last_k[j]}"

    def sarl(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        i = int(r.random() * n_last)
        return f"SARL {last[i]} {w}", f"sarl {last_k[i]} {wk}"

    def last_word(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        i = int(r.random() * n_last)
        return f"{last[i]} {w}", f"{last_k[i]} {wk}"

    def word_place(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        i = int(r.random() * n_places)
        return f"{w} {places[i]}", f"{wk} {places_k[i]}"

    def sons(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        i = int(r.random() * n_last)
        return f"{last[i]} et Fils", f"{last_k[i]} et fils"

    def ets(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        i = int(r.random() * n_last)
        return f"Ets {last[i]}", f"ets {last_k[i]}"

    def eurl(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        i = int(r.random() * n_last)
        return f"EURL {last[i]} {w}", f"eurl {last_k[i]} {wk}"

    def word_city(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        if c[:1].upper() in _VOWELS:
            return f"{w} d'{c}", f"{wk} d {ck}"
        return f"{w} de {c}", f"{wk} de {ck}"

    def workshop(r: random.Random, w: str, wk: str, c: str, ck: str) -> tuple[str, str]:
        i, j = int(r.random() * n_first), int(r.random() * n_last)
        return f"Atelier {first[i]} {last[j]}", f"atelier {first_k[i]} {last_k[j]}"

    return (
        word_last,
        word_last,
        word_last,
        word_first_last,
        sarl,
        last_word,
        word_place,
        word_place,
        sons,
        ets,
        eurl,
        word_city,
        workshop,
    )


class BusinessMaker:
    """Makes one business row at a time; keeps each business's phones for its calls."""

    def __init__(self, pools: Pools, rng: random.Random, count: int, now: str) -> None:
        self.pools = pools
        self.rng = rng
        self.now = now
        self.namers = _namers(pools)
        self.trade_keys = tuple(fold(t.word) for t in TRADES)
        self.city_keys = {c: fold(c) for cities in pools.cities.values() for c, _pc in cities}
        self.slugs = tuple(fold(n).replace(" ", "-") for n in pools.last_names)
        self.first_slugs = tuple(fold(n).replace(" ", "-") for n in pools.first_names)
        # unique SIREN bodies (8 digits, La Poste's 35600000 left out)
        bodies = rng.sample(range(10_000_000, 100_000_000), count + 1)
        self.bodies = [b for b in bodies if b != 35_600_000][:count]
        self.phones: list[str] = [""] * count
        self.alts: list[str | None] = [None] * count

    def _phone(self, table: Sequence[tuple[str, int]]) -> str:
        prefix, free = table[int(self.rng.random() * len(table))]
        return f"{prefix}{int(self.rng.random() * 10**free):0{free}d}"

    def row(
        self,
        index: int,
        business_id: int,
        department: str,
        chamber_id: int,
        trade_index: int,
        status: str,
        do_not_call: bool,
    ) -> tuple[object, ...]:
        rnd = self.rng.random
        pools = self.pools
        trade = TRADES[trade_index]
        city, postcode = pools.cities[department][int(rnd() * len(pools.cities[department]))]
        namer = self.namers[int(rnd() * len(self.namers))]
        name, key = namer(
            self.rng, trade.word, self.trade_keys[trade_index], city, self.city_keys[city]
        )
        siren, siret = siret_of(self.bodies[index], int(rnd() * len(_NICS)))
        street = pools.streets[int(rnd() * len(pools.streets))]
        address = f"{1 + int(rnd() * 120)} {street}"
        if rnd() < 0.55:
            phone = self._phone(pools.fixed[department])
            alt = self._phone(pools.mobile[department]) if rnd() < 0.3 else None
        else:
            phone = self._phone(pools.mobile[department])
            alt = self._phone(pools.fixed[department]) if rnd() < 0.3 else None
        self.phones[index] = phone
        self.alts[index] = alt
        email = None
        # the person to ask for: the e-mail's owner when there is one; else (four in five)
        # a name drawn from the index, so the other draws, and the rest of the data, stay
        # what they were before this column
        first, last = pools.first_names, pools.last_names
        contact = None
        if rnd() < 0.35:
            i = int(rnd() * len(self.slugs))
            domain = pools.email_domains[int(rnd() * len(pools.email_domains))]
            email = f"{self.first_slugs[i % len(self.first_slugs)]}.{self.slugs[i]}@{domain}"
            contact = f"{first[i % len(first)]} {last[i]}"
        elif index % 5:
            j = index * 2_654_435_761
            contact = f"{first[j % len(first)]} {last[(j >> 7) % len(last)]}"
        employees = _EMPLOYEES[int(rnd() * len(_EMPLOYEES))]
        sells_online = 1 if rnd() < (0.25 if trade.closed_lockdown2 else 0.15) else 0
        return (
            business_id,
            siret,
            siren,
            name,
            key,
            trade.code,
            trade.label,
            address,
            postcode,
            city,
            department,
            chamber_id,
            phone,
            alt,
            0,
            0,
            email,
            contact,
            status,
            employees,
            sells_online,
            1 if do_not_call else 0,
            None,  # do_not_call_at: set from the opt-out call once calls are written
            self.now,
            self.now,
        )
