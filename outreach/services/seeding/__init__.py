"""Seeding with Faker: `outreach seed --profile demo|national`.

Profiles (see `plan.py` for the figures):
- demo: 3,000 businesses over the 20 chambers that have départements, a campaign per lockdown
  with its call history and referrals, a click-and-collect campaign over the administratively
  closed businesses, and one live national campaign (window open at any hour) with work queued
  now in every chamber and callbacks due today and tomorrow.
- national [--scale F]: the network's 2020-21 figures (850,000 businesses contacted in lockdown
  2, 16,000 closed businesses in click and collect, 2.35 million calls over lockdowns 1 and 2,
  5,000 digital diagnostics) and a live campaign with the lockdown-2 businesses queued.

Fixed logins, in both profiles (no PIN is set by the seed):
- `demo`: agent, CMA Île-de-France; has IDF work queued and personal callbacks due today in
  the live campaign (the TUI's `outreach demo` logs in as it);
- `demo.superviseur`: supervisor, IDF;
- `cmaf.admin`: admin, CMA France; `cmaf.superviseur`: supervisor, CMA France (national);
- per chamber with départements, `<code>.agent1` .. `<code>.agent3` (agents, each with
  personal callbacks due now, later today and tomorrow) and `<code>.superviseur`, code in lower
  case: `idf.agent1`, `reu.superviseur`, ...; the national profile adds `<code>.agent4`...

Same `--random-seed` (and the same clock), same data.

A bare baseline (benchmarks) reuses the rows: `national_batches(load_reference(session), scale,
seed, now)` yields `Batch(table, rows)` parents first, with the columns `COLUMNS[table]`.
"""

from outreach.services.seeding.plan import PROFILES, demo_plan, national_plan, plan_for
from outreach.services.seeding.reference import load_reference
from outreach.services.seeding.seed import (
    SeedReport,
    national_batches,
    seed_demo,
    seed_national,
    seed_profile,
)
from outreach.services.seeding.tables import COLUMNS, Batch

__all__ = [
    "COLUMNS",
    "PROFILES",
    "Batch",
    "SeedReport",
    "demo_plan",
    "load_reference",
    "national_batches",
    "national_plan",
    "plan_for",
    "seed_demo",
    "seed_national",
    "seed_profile",
]
