"""Finding a business for an inbound call: by SIRET/SIREN, by phone in any format, by name.

Scope: the agent's chamber (CMA France and admins: every chamber). Every lookup is indexed:
SIRET and SIREN by their unique/plain indexes, phones by exact E.164 match on `phone` and
`phone_alt`, names by prefix on `name_key` (the folded name) with the chamber first in
`ix_businesses_chamber_name`. Only when no name starts with the fragment does a substring scan
run, over the agent's chamber (about 30-90 ms for a regional chamber at national scale; a
CMA France search scans all 850,000 names, about 0.2-0.4 s).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import Business, CallTask, Campaign
from outreach.domain.phones import InvalidPhone, parse_phone
from outreach.domain.text import fold
from outreach.errors import InvalidInput
from outreach.i18n import _
from outreach.services.agents import load_agent, works_every_chamber
from outreach.services.queue.views import business_query, business_view
from outreach.services.types import BusinessHit, without_nul

_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]+")
_PHONE_CHARS = re.compile(r"^[\d\s.\-+()\u00a0\u202f]+$")
_PHONE_REGIONS = (None, "971", "972", "973", "974", "976")


def phone_candidates(query: str) -> list[str]:
    """Every E.164 number the typed text can mean (overseas prefixes may be ambiguous)."""
    found: list[str] = []
    for dep in _PHONE_REGIONS:
        try:
            e164 = parse_phone(query, dep)
        except (InvalidPhone, ValueError):
            continue
        if e164 not in found:
            found.append(e164)
    return found


def _prefix_bounds(key: str) -> tuple[str, str]:
    return key, key[:-1] + chr(ord(key[-1]) + 1)


def _hits(session: Session, where: list, scope: list, limit: int) -> list:
    stmt = (
        business_query().where(*where, *scope).order_by(Business.name_key, Business.id).limit(limit)
    )
    return list(session.execute(stmt).all())


SEARCH_MAX = 200  # characters of a search, as the longest name


def search_businesses(
    db: Database, agent_id: int, query: str, limit: int = 20
) -> list[BusinessHit]:
    """Businesses matching `query` (SIRET or SIREN with spaces, phone typed any way, or a name
    fragment) in the agent's scope, each with the campaigns it is in."""
    text = (without_nul(query) or "").strip()
    if not text:
        raise InvalidInput(_("recherche vide : tapez un SIRET, un téléphone ou un nom"))
    if len(text) > SEARCH_MAX:
        # no name is longer (businesses.name is 200 characters); a 50 KB pattern is no search
        raise InvalidInput(
            _("recherche trop longue : {n} caractères, {limit} au plus").format(
                n=len(text), limit=SEARCH_MAX
            )
        )
    limit = max(1, min(limit, 200))
    with db.reading() as session:
        agent = load_agent(session, agent_id)
        scope = [] if works_every_chamber(agent) else [Business.chamber_id == agent.chamber_id]
        compact = _SEPARATORS.sub("", text)
        rows: list = []
        phones = phone_candidates(text) if _PHONE_CHARS.match(text) else []
        if compact.isdigit() and len(compact) == 14:
            rows = _hits(session, [Business.siret == compact], scope, limit)
        elif compact.isdigit() and len(compact) == 9 and not compact.startswith("0"):
            rows = _hits(session, [Business.siren == compact], scope, limit)
        elif phones:
            rows = _hits(session, [Business.phone.in_(phones)], scope, limit)
            seen = {r.id for r in rows}
            rows += [
                r
                for r in _hits(session, [Business.phone_alt.in_(phones)], scope, limit)
                if r.id not in seen
            ]
        elif key := fold(text):
            # names: by prefix (indexed); a fragment inside the name only when no name starts so
            low, high = _prefix_bounds(key)
            rows = _hits(
                session, [Business.name_key >= low, Business.name_key < high], scope, limit
            )
            if not rows:
                rows = _hits(
                    session, [Business.name_key.contains(key, autoescape=True)], scope, limit
                )
        rows = rows[:limit]
        tasks: dict[int, list[tuple[int, str, str]]] = {}
        if rows:
            for bid, cid, cname, state in session.execute(
                select(CallTask.business_id, Campaign.id, Campaign.name, CallTask.state)
                .join(Campaign, Campaign.id == CallTask.campaign_id)
                .where(CallTask.business_id.in_([r.id for r in rows]))
                .order_by(Campaign.id)
            ):
                tasks.setdefault(bid, []).append((cid, cname, state))
    return [BusinessHit(business_view(r), tuple(tasks.get(r.id, ()))) for r in rows]
