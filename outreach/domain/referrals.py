"""Referral kinds an adviser can make on a reached call, and the labelled online-sales platforms.

The platforms are a sample of the State's "clique mon commerce" list of labelled solutions
(2020-21), by category.
"""

from __future__ import annotations

from dataclasses import dataclass

from outreach.domain.lifecycle import STATES


@dataclass(frozen=True, slots=True)
class ReferralKind:
    code: str
    label_fr: str
    label_en: str
    follow_up: bool  # the chamber owes the business a follow-up call or action
    needs_partner: bool = False  # the adviser picks a partner (a labelled platform)

    def label(self, lang: str = "fr") -> str:
        return self.label_en if lang == "en" else self.label_fr


REFERRAL_KINDS: tuple[ReferralKind, ...] = (
    ReferralKind("click_and_collect", "Aide au clic et collecte", "Click-and-collect help", True),
    ReferralKind(
        "platform", "Plateforme de vente labellisée", "Labelled online-sales platform", False, True
    ),
    ReferralKind("website", "Site internet", "Website", False),
    ReferralKind("digital_diagnostic", "Diagnostic numérique", "Digital diagnostic", True),
    ReferralKind("cheque_numerique", "Chèque numérique (500 €)", "Digital cheque (€500)", False),
    ReferralKind("solidarity_fund", "Fonds de solidarité", "Solidarity fund", False),
    ReferralKind("other", "Autre", "Other", False),
)
REFERRAL_KINDS_BY_CODE: dict[str, ReferralKind] = {k.code: k for k in REFERRAL_KINDS}
REFERRAL_STATUSES = STATES  # the lifecycle's states (outreach.domain.lifecycle)

# (name, category) - categories as on the clique-mon-commerce list.
PLATFORMS: tuple[tuple[str, str], ...] = (
    ("Ma Ville Mon Shopping", "marketplace"),
    ("Wizishop", "site"),
    ("Shopify", "site"),
    ("PrestaShop", "site"),
    ("Wix", "site"),
    ("Oxatis", "site"),
    ("Sumup", "payment"),
    ("Lydia Pro", "payment"),
    ("PayPal", "payment"),
    ("Stuart", "delivery"),
    ("Urbike", "delivery"),
    ("La Poste Colissimo", "delivery"),
    ("Cdiscount Marketplace", "marketplace"),
    ("Mon Commerçant de Quartier", "click_and_collect"),
    ("Clic & Collect CMA", "click_and_collect"),
    ("Petit Commerce", "click_and_collect"),
)
PLATFORM_NAMES: tuple[str, ...] = tuple(name for name, _ in PLATFORMS)
