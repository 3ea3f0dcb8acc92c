"""The funnel of the operation per group of calls (`rollup --funnel`), from first call to a firm
verified selling online:

- `businesses_contacted`, `businesses_reached`: distinct businesses of the selected calls;
- `businesses_referred`: distinct businesses with a referral made during those calls;
- `referrals_accepted`: those referrals the firm accepted (now accepted, scheduled, done or
  no-show: outreach.domain.lifecycle.ACCEPTED_STATES);
- `diagnostics_done`: diagnostic referrals of those calls now done;
- `businesses_verified_online`: distinct businesses of those calls that a verification call
  confirmed sell online (`businesses.sells_online_verified_at`).

`recount` counts the same in plain Python from one merged scan of calls and referrals (no
GROUP BY), and `verify` raises RollupMismatch on any difference (invariant 6).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from outreach.db.engine import Database
from outreach.db.models import Business, Call, Campaign, Referral
from outreach.domain.lifecycle import ACCEPTED_STATES, DIAGNOSTIC, DONE_STATE
from outreach.services.rollup import (
    Rollup,
    _group_columns,
    _Names,
    _sort_key,
    differences,
    raise_on,
    rollup,
    scan_calls,
)
from outreach.services.selection import Selection

FUNNEL = (
    "businesses_contacted",
    "businesses_reached",
    "businesses_referred",
    "referrals_accepted",
    "diagnostics_done",
    "businesses_verified_online",
)


def _zero() -> dict[str, int]:
    return dict.fromkeys(FUNNEL, 0)


def _extra(session: Any, db: Database, sel: Selection, by: tuple[str, ...]) -> dict[str, Any]:
    """Referred, accepted and verified per group key (raw keys), in three queries."""
    cols, needs_campaign = _group_columns(db, by)

    def run(stmt: Any) -> list[Any]:
        if needs_campaign:
            stmt = stmt.join(Campaign, Campaign.id == Call.campaign_id)
        stmt = stmt.where(*sel.conditions())
        if cols:
            stmt = stmt.group_by(*cols)
        return list(session.execute(stmt).all())

    referred = run(
        select(*cols, func.count(func.distinct(Referral.business_id)))
        .select_from(Referral)
        .join(Call, Call.id == Referral.call_id)
    )
    accepted = run(
        select(*cols, func.count(Referral.id))
        .select_from(Referral)
        .join(Call, Call.id == Referral.call_id)
        .where(Referral.status.in_(ACCEPTED_STATES))
    )
    verified = run(
        select(*cols, func.count(func.distinct(Call.business_id)))
        .select_from(Call)
        .join(Business, Business.id == Call.business_id)
        .where(Business.sells_online_verified_at.is_not(None))
    )
    return {
        "businesses_referred": referred,
        "referrals_accepted": accepted,
        "businesses_verified_online": verified,
    }


def funnel(db: Database, sel: Selection, by: tuple[str, ...] = ("lockdown",)) -> Rollup:
    """The funnel's measures per group of `by` and in total (a business counted once there)."""
    by = tuple(by)
    base = rollup(db, sel, by)
    n = len(by)
    groups: dict[tuple[Any, ...], dict[str, int]] = defaultdict(_zero)
    for row in base.rows:
        key = tuple(row[d] for d in by)
        for m in ("businesses_contacted", "businesses_reached", "diagnostics_done"):
            groups[key][m] = row[m]
    total = _zero()
    for m in ("businesses_contacted", "businesses_reached", "diagnostics_done"):
        total[m] = base.total[m]
    with db.reading() as session:
        names = _Names(session)
        for measure, rows in _extra(session, db, sel, by).items():
            for row in rows:
                key = tuple(names.key(d, v) for d, v in zip(by, row[:n], strict=True))
                groups[key][measure] = int(row[n])
        if by:
            for measure, rows in _extra(session, db, sel, ()).items():
                total[measure] = int(rows[0][0]) if rows else 0
        else:
            total = groups.get((), total) | {
                m: total[m]
                for m in ("businesses_contacted", "businesses_reached", "diagnostics_done")
            }
            groups.clear()
    rows_out = tuple(
        {**dict(zip(by, key, strict=True)), **groups[key]}
        for key in sorted(groups, key=lambda k: _sort_key(names, by, k))
    )
    return Rollup(by, rows_out, dict(total), dict(sel.described))


def recount(db: Database, sel: Selection, by: tuple[str, ...]) -> Rollup:
    """The funnel counted in Python from one scan of calls merged with one of referrals."""
    with db.reading() as session:
        names = _Names(session)
        verified = set(
            session.scalars(
                select(Business.id).where(Business.sells_online_verified_at.is_not(None))
            )
        )
        groups: dict[tuple[Any, ...], dict[str, Any]] = {}
        total = _acc()
        for key, biz, reached, mine in scan_calls(session, sel, by, names):
            for acc in (groups.setdefault(key, _acc()), total):
                acc["contacted"].add(biz)
                if reached:
                    acc["reached"].add(biz)
                if biz in verified:
                    acc["verified"].add(biz)
                for kind, state, ref_biz in mine:
                    acc["referred"].add(ref_biz)
                    acc["accepted"] += state in ACCEPTED_STATES
                    acc["diag_done"] += kind == DIAGNOSTIC and state == DONE_STATE

    def measures(acc: dict[str, Any]) -> dict[str, int]:
        return {
            "businesses_contacted": len(acc["contacted"]),
            "businesses_reached": len(acc["reached"]),
            "businesses_referred": len(acc["referred"]),
            "referrals_accepted": acc["accepted"],
            "diagnostics_done": acc["diag_done"],
            "businesses_verified_online": len(acc["verified"]),
        }

    rows = tuple(
        {**dict(zip(by, key, strict=True)), **measures(groups[key])}
        for key in sorted(groups, key=lambda k: _sort_key(names, by, k))
    )
    return Rollup(by, rows if by else (), measures(total), dict(sel.described))


def _acc() -> dict[str, Any]:
    return {
        "contacted": set(),
        "reached": set(),
        "referred": set(),
        "verified": set(),
        "accepted": 0,
        "diag_done": 0,
    }


def verify(db: Database, sel: Selection, by: tuple[str, ...] = ("lockdown",)) -> Rollup:
    """The funnel, checked against its recount; RollupMismatch listing every difference."""
    result = funnel(db, sel, by)
    raise_on(differences(result, recount(db, sel, by), FUNNEL))
    return result
