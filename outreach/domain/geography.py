"""The CMA network from 1 January 2021 and every French département, with its chamber and time zone.

Reference data: the initial data migration writes it into `chambers` and `departments`;
the domain rules (phones, calling windows) read it from here without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

PARIS = "Europe/Paris"


@dataclass(frozen=True, slots=True)
class Chamber:
    code: str
    name: str
    region: str
    kind: str  # head, regional, overseas, local_law


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    chamber: str
    timezone: str


CHAMBERS: tuple[Chamber, ...] = (
    Chamber("CMAF", "CMA France", "National", "head"),
    Chamber("ARA", "CMA Auvergne-Rhône-Alpes", "Auvergne-Rhône-Alpes", "regional"),
    Chamber("BFC", "CMA Bourgogne-Franche-Comté", "Bourgogne-Franche-Comté", "regional"),
    Chamber("BRE", "CMA Bretagne", "Bretagne", "regional"),
    Chamber("CVL", "CMA Centre-Val de Loire", "Centre-Val de Loire", "regional"),
    Chamber("COR", "CMA de Corse", "Corse", "regional"),
    Chamber("GES", "CMA Grand Est", "Grand Est", "regional"),
    Chamber("HDF", "CMA Hauts-de-France", "Hauts-de-France", "regional"),
    Chamber("IDF", "CMA Île-de-France", "Île-de-France", "regional"),
    Chamber("NOR", "CMA Normandie", "Normandie", "regional"),
    Chamber("NAQ", "CMA Nouvelle-Aquitaine", "Nouvelle-Aquitaine", "regional"),
    Chamber("OCC", "CMA Occitanie", "Occitanie", "regional"),
    Chamber("PDL", "CMA Pays de la Loire", "Pays de la Loire", "regional"),
    Chamber("PAC", "CMA Provence-Alpes-Côte d'Azur", "Provence-Alpes-Côte d'Azur", "regional"),
    Chamber("ALS", "Chambre de Métiers d'Alsace", "Grand Est", "local_law"),
    Chamber("MOS", "Chambre de Métiers et de l'Artisanat de la Moselle", "Grand Est", "local_law"),
    Chamber("GLP", "CMA Guadeloupe", "Guadeloupe", "overseas"),
    Chamber("MTQ", "CMA Martinique", "Martinique", "overseas"),
    Chamber("GUF", "CMA Guyane", "Guyane", "overseas"),
    Chamber("REU", "CMA La Réunion", "La Réunion", "overseas"),
    Chamber("MYT", "CMA Mayotte", "Mayotte", "overseas"),
)

_METRO: dict[str, tuple[tuple[str, str], ...]] = {
    "ARA": (
        ("01", "Ain"),
        ("03", "Allier"),
        ("07", "Ardèche"),
        ("15", "Cantal"),
        ("26", "Drôme"),
        ("38", "Isère"),
        ("42", "Loire"),
        ("43", "Haute-Loire"),
        ("63", "Puy-de-Dôme"),
        ("69", "Rhône"),
        ("73", "Savoie"),
        ("74", "Haute-Savoie"),
    ),
    "BFC": (
        ("21", "Côte-d'Or"),
        ("25", "Doubs"),
        ("39", "Jura"),
        ("58", "Nièvre"),
        ("70", "Haute-Saône"),
        ("71", "Saône-et-Loire"),
        ("89", "Yonne"),
        ("90", "Territoire de Belfort"),
    ),
    "BRE": (
        ("22", "Côtes-d'Armor"),
        ("29", "Finistère"),
        ("35", "Ille-et-Vilaine"),
        ("56", "Morbihan"),
    ),
    "CVL": (
        ("18", "Cher"),
        ("28", "Eure-et-Loir"),
        ("36", "Indre"),
        ("37", "Indre-et-Loire"),
        ("41", "Loir-et-Cher"),
        ("45", "Loiret"),
    ),
    "COR": (("2A", "Corse-du-Sud"), ("2B", "Haute-Corse")),
    "GES": (
        ("08", "Ardennes"),
        ("10", "Aube"),
        ("51", "Marne"),
        ("52", "Haute-Marne"),
        ("54", "Meurthe-et-Moselle"),
        ("55", "Meuse"),
        ("88", "Vosges"),
    ),
    "HDF": (
        ("02", "Aisne"),
        ("59", "Nord"),
        ("60", "Oise"),
        ("62", "Pas-de-Calais"),
        ("80", "Somme"),
    ),
    "IDF": (
        ("75", "Paris"),
        ("77", "Seine-et-Marne"),
        ("78", "Yvelines"),
        ("91", "Essonne"),
        ("92", "Hauts-de-Seine"),
        ("93", "Seine-Saint-Denis"),
        ("94", "Val-de-Marne"),
        ("95", "Val-d'Oise"),
    ),
    "NOR": (
        ("14", "Calvados"),
        ("27", "Eure"),
        ("50", "Manche"),
        ("61", "Orne"),
        ("76", "Seine-Maritime"),
    ),
    "NAQ": (
        ("16", "Charente"),
        ("17", "Charente-Maritime"),
        ("19", "Corrèze"),
        ("23", "Creuse"),
        ("24", "Dordogne"),
        ("33", "Gironde"),
        ("40", "Landes"),
        ("47", "Lot-et-Garonne"),
        ("64", "Pyrénées-Atlantiques"),
        ("79", "Deux-Sèvres"),
        ("86", "Vienne"),
        ("87", "Haute-Vienne"),
    ),
    "OCC": (
        ("09", "Ariège"),
        ("11", "Aude"),
        ("12", "Aveyron"),
        ("30", "Gard"),
        ("31", "Haute-Garonne"),
        ("32", "Gers"),
        ("34", "Hérault"),
        ("46", "Lot"),
        ("48", "Lozère"),
        ("65", "Hautes-Pyrénées"),
        ("66", "Pyrénées-Orientales"),
        ("81", "Tarn"),
        ("82", "Tarn-et-Garonne"),
    ),
    "PDL": (
        ("44", "Loire-Atlantique"),
        ("49", "Maine-et-Loire"),
        ("53", "Mayenne"),
        ("72", "Sarthe"),
        ("85", "Vendée"),
    ),
    "PAC": (
        ("04", "Alpes-de-Haute-Provence"),
        ("05", "Hautes-Alpes"),
        ("06", "Alpes-Maritimes"),
        ("13", "Bouches-du-Rhône"),
        ("83", "Var"),
        ("84", "Vaucluse"),
    ),
    "ALS": (("67", "Bas-Rhin"), ("68", "Haut-Rhin")),
    "MOS": (("57", "Moselle"),),
}

_OVERSEAS: tuple[Department, ...] = (
    Department("971", "Guadeloupe", "GLP", "America/Guadeloupe"),
    Department("972", "Martinique", "MTQ", "America/Martinique"),
    Department("973", "Guyane", "GUF", "America/Cayenne"),
    Department("974", "La Réunion", "REU", "Indian/Reunion"),
    Department("976", "Mayotte", "MYT", "Indian/Mayotte"),
)

DEPARTMENTS: tuple[Department, ...] = tuple(
    sorted(
        [
            Department(code, name, chamber, PARIS)
            for chamber, ds in _METRO.items()
            for code, name in ds
        ]
        + list(_OVERSEAS),
        key=lambda d: (len(d.code) > 2, d.code),
    )
)

DEPARTMENTS_BY_CODE: dict[str, Department] = {d.code: d for d in DEPARTMENTS}


# an import asks for the same few thousand postcodes again and again
@lru_cache(maxsize=65_536)
def department_of_postcode(postcode: str) -> str | None:
    """The département a French postcode belongs to (Corsica split at 20200), or None."""
    pc = postcode.strip().replace(" ", "")
    if len(pc) != 5 or not pc.isdigit():
        return None
    if pc.startswith("97"):
        code = pc[:3]
    elif pc.startswith("20"):
        code = "2A" if int(pc) < 20200 else "2B"
    else:
        code = pc[:2]
    return code if code in DEPARTMENTS_BY_CODE else None


def timezone_of(department: str) -> str:
    """The IANA time zone of a département (metropolitan France is Europe/Paris)."""
    dep = DEPARTMENTS_BY_CODE.get(department)
    return dep.timezone if dep else PARIS
