"""How much of everything a profile seeds: the demo, and the national figures scaled.

National figures (scale 1.0), from the network's own account of 2020-21:
- 1,000,000 artisan businesses; 850,000 of them contacted in lockdown 2;
- lockdown 1: 700,000 businesses, 1,050,000 calls; lockdown 2: 850,000 businesses and
  1,300,000 calls (1,276,000 in the main campaign, 24,000 in the click-and-collect campaign over
  its 16,000 administratively closed businesses): 2,350,000 contacts over lockdowns 1 and 2;
- lockdown 3: 120,000 businesses, 160,000 calls;
- 5,000 digital-diagnostic referrals;
- a live national campaign with the 850,000 lockdown-2 businesses queued.
`--scale F` multiplies every count (at least a few of each), so proportions hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from outreach.errors import InvalidInput
from outreach.i18n import _

PROFILES = ("demo", "national")
MAX_SCALE = 2.0


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    key: str  # l1, l2, cc, l3
    tasks: int  # distinct businesses, each called at least once
    calls: int
    max_attempts: int = 4


@dataclass(frozen=True, slots=True)
class Plan:
    profile: str
    scale: float
    businesses: int
    l1: CampaignPlan
    l2: CampaignPlan
    cc: CampaignPlan  # click and collect, lockdown 2, administratively closed businesses
    l3: CampaignPlan
    diagnostics: int  # digital_diagnostic referrals (lockdown 2)
    agents: int  # callers beyond the fixed logins, shared by chambers by size
    live_retry_share: float  # live tasks already tried once (no answer), due again now
    live_callback_share: float  # live tasks with a callback due today or tomorrow
    state_days: int = 2  # past working days of advisers' states (and today so far)

    @property
    def campaigns(self) -> tuple[CampaignPlan, ...]:
        return (self.l1, self.l2, self.cc, self.l3)


def demo_plan() -> Plan:
    return Plan(
        profile="demo",
        scale=1.0,
        businesses=3_000,
        l1=CampaignPlan("l1", 2_000, 3_000),
        l2=CampaignPlan("l2", 2_550, 3_800),
        cc=CampaignPlan("cc", 200, 300),
        l3=CampaignPlan("l3", 600, 800),
        diagnostics=60,
        agents=0,
        live_retry_share=0.03,
        live_callback_share=0.01,
        state_days=10,
    )


def check_scale(scale: float) -> float:
    if not (isinstance(scale, int | float) and math.isfinite(scale) and 0 < scale <= MAX_SCALE):
        raise InvalidInput(
            _("--scale {scale} : attendu un nombre > 0 et <= {max}").format(
                scale=scale, max=MAX_SCALE
            )
        )
    return float(scale)


def national_plan(scale: float = 1.0) -> Plan:
    """The national figures times `scale` (counts rounded, at least a few of each)."""
    scale = check_scale(scale)

    def n(full: int, least: int) -> int:
        return max(least, round(full * scale))

    def campaign(key: str, tasks: int, calls: int) -> CampaignPlan:
        t = n(tasks, 3)
        return CampaignPlan(key, t, max(t, n(calls, 3)))

    return Plan(
        profile="national",
        scale=scale,
        businesses=n(1_000_000, 60),
        l1=campaign("l1", 700_000, 1_050_000),
        l2=campaign("l2", 850_000, 1_276_000),
        cc=campaign("cc", 16_000, 24_000),
        l3=campaign("l3", 120_000, 160_000),
        diagnostics=n(5_000, 2),
        agents=n(11_000, 0),  # the network's 11,000 staff
        live_retry_share=0.01,
        live_callback_share=0.002,
    )


def plan_for(profile: str, scale: float | None = None) -> Plan:
    """The plan of `profile`; InvalidInput naming the valid ones otherwise."""
    if profile == "demo":
        if scale not in (None, 1, 1.0):
            raise InvalidInput(_("--scale ne s'applique qu'au profil national"))
        return demo_plan()
    if profile == "national":
        return national_plan(1.0 if scale is None else scale)
    raise InvalidInput(
        _("profil inconnu : {profile!r} (profils : {valid})").format(
            profile=profile, valid=", ".join(PROFILES)
        )
    )
