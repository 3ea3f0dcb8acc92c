"""The seeded campaigns: names, scripts, referral odds, and the live campaign's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

YES_NO = ["oui", "non"]


@dataclass(frozen=True)
class CampaignSpec:
    key: str  # l1, l2, cc, l3, live
    name: str
    description: str
    lockdown: str | None
    script: list[dict[str, Any]]  # JSON, as Campaign.script
    # (referral kind, probability on a reached call); cheque_numerique only under 11 staff
    referrals: tuple[tuple[str, float], ...] = ()
    target: dict[str, object] | None = None


SPECS: dict[str, CampaignSpec] = {
    "l1": CampaignSpec(
        "l1",
        "Confinement 1 : appel des entreprises artisanales",
        "Prendre des nouvelles de chaque entreprise et orienter vers les aides d'urgence.",
        "confinement-1",
        [
            {
                "key": "activite",
                "text": "Votre activité est-elle à l'arrêt ?",
                "choices": ["oui", "non", "partiellement"],
            },
            {
                "key": "fonds_solidarite",
                "text": "Avez-vous demandé le fonds de solidarité ?",
                "choices": ["oui", "non", "en cours"],
            },
        ],
        (("solidarity_fund", 0.10), ("website", 0.02), ("other", 0.01)),
    ),
    "l2": CampaignSpec(
        "l2",
        "Confinement 2 : appel des entreprises artisanales",
        "Appeler chaque entreprise artisanale : vente à distance, aides, diagnostic numérique.",
        "confinement-2",
        [
            {"key": "vente_en_ligne", "text": "Vendez-vous déjà en ligne ?", "choices": YES_NO},
            {
                "key": "clic_collecte",
                "text": "Proposez-vous le clic et collecte ?",
                "choices": ["oui", "non", "en projet"],
            },
        ],
        (
            ("platform", 0.05),
            ("cheque_numerique", 0.06),
            ("solidarity_fund", 0.05),
            ("website", 0.02),
        ),
    ),
    "cc": CampaignSpec(
        "cc",
        "Confinement 2 : clic et collecte des commerces fermés",
        "Aider les commerces fermés administrativement à vendre en ligne ou en clic et collecte.",
        "confinement-2",
        [
            {
                "key": "clic_collecte",
                "text": "Avez-vous mis en place le clic et collecte ?",
                "choices": ["oui", "non", "en projet"],
            },
            {
                "key": "plateforme",
                "text": "Utilisez-vous une plateforme de vente ?",
                "choices": YES_NO,
            },
        ],
        (("click_and_collect", 0.45), ("platform", 0.20), ("cheque_numerique", 0.15)),
        {"status": "closed_admin", "lockdown": "confinement-2"},
    ),
    "l3": CampaignSpec(
        "l3",
        "Confinement 3 : point de situation",
        "Point sur la reprise d'activité et les aides restantes.",
        "confinement-3",
        [
            {
                "key": "activite",
                "text": "Votre activité a-t-elle repris normalement ?",
                "choices": ["oui", "non", "partiellement"],
            }
        ],
        (("solidarity_fund", 0.04), ("website", 0.02)),
    ),
    "live": CampaignSpec(
        "live",
        "Accompagnement numérique des artisans (en cours)",
        "Campagne nationale en cours : proposer l'accompagnement numérique de la CMA.",
        None,
        [
            {"key": "vente_en_ligne", "text": "Vendez-vous déjà en ligne ?", "choices": YES_NO},
            {
                "key": "besoin_accompagnement",
                "text": "Souhaitez-vous un accompagnement numérique ?",
                "choices": ["oui", "non", "plus tard"],
            },
        ],
    ),
}
LIVE_INTRO = (
    "Bonjour, je suis conseiller de la Chambre de Métiers et de l'Artisanat. "
    "Je vous appelle au sujet de l'accompagnement numérique des entreprises artisanales."
)
