"""Follow-up campaigns from earlier results: which businesses of an earlier campaign to call again.

`campaign create NAME --from CAMPAIGN [--outcome ...] [--referral-state ...] [--answer k=v]`
selects the businesses queued in CAMPAIGN, narrowed by every filter given (values of one filter
are alternatives):

- `--outcome`: the outcome of the business's latest call in CAMPAIGN (a business that did not
  answer and was reached later is "reached", not "no_answer");
- `--referral-state`: a referral made in a call of CAMPAIGN is now in one of these states;
- `--answer key=value`: the business's latest answer to that question of CAMPAIGN's script is
  `value` (case ignored); repeated, every answer must match.

The conditions are WHERE clauses over `businesses`; the campaigns service queues them with its
one rule (do-not-call and ceased businesses are never queued, a regional supervisor's chamber
only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from outreach.db.models import Business, Call, CallAnswer, CallTask, Campaign, Referral
from outreach.domain.outcomes import OUTCOMES_BY_CODE
from outreach.domain.referrals import REFERRAL_STATUSES
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.access import sees_all
from outreach.services.types import AgentInfo


@dataclass(frozen=True, slots=True)
class EarlierResults:
    """The filters over an earlier campaign (empty tuples: no condition)."""

    campaign: str
    outcomes: tuple[str, ...] = ()
    referral_states: tuple[str, ...] = ()
    answers: tuple[tuple[str, str], ...] = ()  # (question key, answer)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "from": self.campaign,
            "outcomes": list(self.outcomes),
            "referral_states": list(self.referral_states),
            "answers": {k: v for k, v in self.answers},
        }
        return {k: v for k, v in out.items() if v}


def parse_answer(text: str) -> tuple[str, str]:
    """`key=value` (as `--answer vend_en_ligne=non`); InvalidInput else."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise InvalidInput(
            _("--answer {v!r} : attendu clé=réponse, ex. vend_en_ligne=non").format(v=text)
        )
    return key.strip(), value.strip()


def _check(values: tuple[str, ...], valid: tuple[str, ...], option: str) -> None:
    bad = [v for v in values if v not in valid]
    if bad:
        raise InvalidInput(
            _("{option} {bad} : au choix {valid}").format(
                option=option, bad=", ".join(bad), valid=", ".join(valid)
            )
        )


def _source(session: Session, person: AgentInfo | None, name: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.name == name.strip()))
    if campaign is None:
        raise NotFound(_("--from : campagne inconnue : {name}").format(name=name))
    # a regional supervisor reads the results of national campaigns and of their chamber's
    if (
        person is not None
        and not sees_all(person)
        and campaign.chamber_id not in (None, person.chamber_id)
    ):
        raise Forbidden(
            _("--from {name} : campagne d'une autre chambre que {code}").format(
                name=name, code=person.chamber_code
            )
        )
    return campaign


def _check_answers(campaign: Campaign, answers: tuple[tuple[str, str], ...]) -> None:
    script = {str(q.get("key")): q for q in campaign.script or []}
    for key, value in answers:
        if key not in script:
            raise InvalidInput(
                _(
                    "--answer {key} : la campagne {name} n'a pas cette question (questions : {keys})"
                ).format(key=key, name=campaign.name, keys=", ".join(script) or "-")
            )
        choices = [str(c) for c in script[key].get("choices") or []]
        if choices and value.casefold() not in {c.casefold() for c in choices}:
            raise InvalidInput(
                _("--answer {key}={value} : réponses possibles {choices}").format(
                    key=key, value=value, choices=", ".join(choices)
                )
            )


def conditions(session: Session, person: AgentInfo | None, earlier: EarlierResults) -> list[Any]:
    """WHERE clauses over `businesses` for `earlier`; InvalidInput, NotFound or Forbidden on a
    filter that cannot be applied (unknown outcome, state, campaign or question)."""
    _check(earlier.outcomes, tuple(OUTCOMES_BY_CODE), "--outcome")
    _check(earlier.referral_states, tuple(REFERRAL_STATUSES), "--referral-state")
    source = _source(session, person, earlier.campaign)
    _check_answers(source, earlier.answers)

    out: list[Any] = [
        exists().where(CallTask.campaign_id == source.id, CallTask.business_id == Business.id)
    ]
    latest = (Call.started_at.desc(), Call.id.desc())
    if earlier.outcomes:
        last_outcome = (
            select(Call.outcome)
            .where(Call.business_id == Business.id, Call.campaign_id == source.id)
            .order_by(*latest)
            .limit(1)
            .scalar_subquery()
        )
        out.append(last_outcome.in_(earlier.outcomes))
    if earlier.referral_states:
        out.append(
            exists().where(
                Referral.business_id == Business.id,
                Referral.status.in_(earlier.referral_states),
                Referral.call_id == Call.id,
                Call.campaign_id == source.id,
            )
        )
    for key, value in earlier.answers:
        last_answer = (
            select(CallAnswer.answer)
            .join(Call, Call.id == CallAnswer.call_id)
            .where(
                Call.business_id == Business.id,
                Call.campaign_id == source.id,
                CallAnswer.question == key,
            )
            .order_by(*latest)
            .limit(1)
            .scalar_subquery()
        )
        out.append(func.lower(last_answer) == value.lower())
    return out
