"""Artisan trades: NAFA code (NAF/APE 4 digits + letter, plus the artisan letter), French label.

A sample of the trades the CMA network registers, with a rough weight (their share of artisan
firms) and whether their shops were administratively closed in the second lockdown (30 October
to 28 November 2020: "non-essential" shops such as hairdressers, beauty salons, florists,
jewellers, cobblers). Used by the seeding; the queue reads the code and label from `businesses`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trade:
    code: str  # NAFA, e.g. 10.71CZ (NAF 10.71C + artisan letter)
    label: str  # the NAFA label, as on the trade register
    word: str  # how the trade reads in a shop name ("Boulangerie Martin")
    weight: float  # rough share of artisan firms
    closed_lockdown2: bool = False  # shop closed by decree in lockdown 2 (non-essential)


TRADES: tuple[Trade, ...] = (
    # food
    Trade("10.71CZ", "Boulangerie et boulangerie-pâtisserie", "Boulangerie", 5.0),
    Trade("10.71DZ", "Pâtisserie", "Pâtisserie", 1.5),
    Trade("10.13BZ", "Charcuterie", "Charcuterie", 1.0),
    Trade("47.22ZA", "Boucherie", "Boucherie", 2.0),
    Trade("10.85ZA", "Traiteur", "Traiteur", 1.0),
    Trade("10.52ZA", "Fabrication de glaces et sorbets", "Glacier", 0.3),
    Trade("10.82ZA", "Chocolaterie, confiserie", "Chocolaterie", 0.5),
    # building
    Trade("43.22AA", "Plomberie", "Plomberie", 5.0),
    Trade("43.22BA", "Chauffage, climatisation", "Chauffage", 2.0),
    Trade("43.21AZ", "Travaux d'installation électrique", "Électricité", 5.5),
    Trade("43.32AZ", "Menuiserie bois et PVC", "Menuiserie", 4.0),
    Trade("43.32BZ", "Menuiserie métallique et serrurerie", "Serrurerie", 1.5),
    Trade("43.34ZA", "Peinture en bâtiment", "Peinture", 4.5),
    Trade("43.99CZ", "Maçonnerie générale et gros œuvre", "Maçonnerie", 6.0),
    Trade("43.91BZ", "Couverture", "Couverture", 2.0),
    Trade("43.33ZA", "Carrelage, revêtement des sols et des murs", "Carrelage", 2.0),
    Trade("43.31ZA", "Plâtrerie", "Plâtrerie", 1.5),
    Trade("43.12AZ", "Terrassement", "Terrassement", 1.0),
    Trade("43.29AZ", "Travaux d'isolation", "Isolation", 1.0),
    Trade("16.23ZA", "Charpente", "Charpente", 1.0),
    Trade("81.30ZA", "Aménagement paysager", "Paysagiste", 2.0),
    Trade("81.21ZA", "Nettoyage courant des bâtiments", "Nettoyage", 2.0),
    # services
    Trade("96.02AA", "Coiffure en salon", "Coiffure", 6.0, True),
    Trade("96.02AB", "Coiffure à domicile", "Coiffure", 1.5),
    Trade("96.02BA", "Soins de beauté, esthétique", "Institut de beauté", 3.0, True),
    Trade("96.09ZB", "Tatouage, perçage", "Tatouage", 0.4, True),
    Trade("95.23ZA", "Cordonnerie", "Cordonnerie", 0.4, True),
    Trade("95.25ZA", "Horlogerie", "Horlogerie", 0.3, True),
    Trade("95.29ZA", "Retouches, couture", "Retouches", 0.6, True),
    Trade("96.01BA", "Blanchisserie, pressing", "Pressing", 0.6),
    Trade("96.09ZA", "Toilettage d'animaux", "Toilettage", 0.6),
    Trade("74.20ZA", "Photographie", "Studio photo", 0.8, True),
    Trade("45.20AA", "Entretien et réparation de véhicules légers", "Garage", 4.0),
    Trade("45.20BA", "Carrosserie", "Carrosserie", 1.2),
    Trade("49.32ZA", "Taxi", "Taxi", 3.0),
    Trade("49.42ZA", "Déménagement", "Déménagements", 0.5),
    Trade("95.11ZA", "Réparation d'ordinateurs", "Informatique", 0.6),
    # making
    Trade("47.76ZA", "Fleuriste", "Fleuriste", 1.2, True),
    Trade("32.12ZA", "Bijouterie, joaillerie", "Bijouterie", 0.6, True),
    Trade("31.09BZ", "Ébénisterie, fabrication de meubles", "Ébénisterie", 0.8),
    Trade("18.12ZA", "Imprimerie", "Imprimerie", 0.6),
    Trade("23.41ZA", "Céramique, poterie", "Céramique", 0.3, True),
    Trade("95.24ZA", "Tapisserie d'ameublement", "Tapisserie", 0.3, True),
    Trade("32.20ZA", "Lutherie", "Lutherie", 0.1, True),
    Trade("25.62BZ", "Mécanique industrielle", "Mécanique", 0.8),
)

TRADES_BY_CODE: dict[str, Trade] = {t.code: t for t in TRADES}
