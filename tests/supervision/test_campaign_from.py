"""`outreach campaign create NAME --from CAMPAIGN [--outcome] [--referral-state] [--answer]`:
exactly the businesses whose earlier results match, do-not-call and ceased firms left out."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select

from outreach.cli import cli
from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business, Call, CallAnswer, CallTask, Campaign, Referral
from outreach.domain.outcomes import outcome
from tests.factories import make_agent, make_business, make_campaign, make_task

T0 = datetime(2020, 11, 2, 9, 0)


@dataclass
class World:
    biz: dict[str, int] = field(default_factory=dict)
    n: int = 0


def _call(
    db: Database,
    w: World,
    campaign: int,
    key: str,
    agent: int,
    result: str,
    *,
    answers: dict[str, str] | None = None,
    referral: str | None = None,
) -> None:
    w.n += 1
    at = T0 + timedelta(hours=w.n)
    with db.writing() as s:
        chamber = s.scalar(select(Business.chamber_id).where(Business.id == w.biz[key]))
        call = s.execute(
            insert(Call)
            .values(
                uuid=str(uuid.uuid4()),
                campaign_id=campaign,
                business_id=w.biz[key],
                agent_id=agent,
                chamber_id=chamber,
                started_at=at,
                ended_at=at + timedelta(minutes=3),
                outcome=result,
                reached=outcome(result).reached,
                recorded_at=at,
            )
            .returning(Call.id)
        ).scalar_one()
        for q, a in (answers or {}).items():
            s.execute(insert(CallAnswer).values(call_id=call, question=q, answer=a))
        if referral:
            s.execute(
                insert(Referral).values(
                    call_id=call,
                    business_id=w.biz[key],
                    kind="digital_diagnostic",
                    status=referral,
                    created_at=at,
                )
            )


@pytest.fixture
def world(db: Database) -> World:
    """Campaign "C2" (national, script vend_en_ligne oui/non) and its results:

    | business       | chamber | calls in C2 (oldest first)           | notes                    |
    | refused        | IDF     | refused                              |                          |
    | no_answer      | IDF     | no_answer                            |                          |
    | later_reached  | IDF     | no_answer, reached (vend_en_ligne=oui)|                         |
    | says_no        | IDF     | reached (vend_en_ligne=Non)          |                          |
    | changed_mind   | IDF     | reached (non), reached (oui)         | latest answer is oui     |
    | declined       | IDF     | reached + diagnostic declined        |                          |
    | accepted       | IDF     | reached + diagnostic accepted        |                          |
    | refused_dnc    | IDF     | refused                              | do-not-call since        |
    | refused_ceased | IDF     | refused                              | ceased since             |
    | refused_bre    | BRE     | refused                              | another chamber          |
    | elsewhere      | IDF     | (refused in campaign "Autre" only)   | not in C2                |
    | untouched      | IDF     | queued, never called                 |                          |
    """
    w = World()
    agent = make_agent(db, "conseiller")
    make_agent(db, "sup_nat", role="supervisor", chamber="CMAF")
    make_agent(db, "sup_idf", role="supervisor")
    make_agent(db, "sup_bre", role="supervisor", chamber="BRE")
    script = [{"key": "vend_en_ligne", "text": "Vendez-vous en ligne ?", "choices": ["oui", "non"]}]
    c2 = make_campaign(db, "C2", script=script)
    other = make_campaign(db, "Autre")
    make_campaign(db, "Bretagne seule", chamber="BRE")
    for key in (
        "refused", "no_answer", "later_reached", "says_no", "changed_mind", "declined",
        "accepted", "refused_dnc", "refused_ceased", "elsewhere", "untouched",
    ):  # fmt: skip
        w.biz[key] = make_business(db, key, department="75")
    w.biz["refused_bre"] = make_business(db, "refused_bre", department="35")
    for key, bid in w.biz.items():
        make_task(db, other if key == "elsewhere" else c2, bid)
    _call(db, w, c2, "refused", agent, "refused")
    _call(db, w, c2, "no_answer", agent, "no_answer")
    _call(db, w, c2, "later_reached", agent, "no_answer")
    _call(db, w, c2, "later_reached", agent, "reached", answers={"vend_en_ligne": "oui"})
    _call(db, w, c2, "says_no", agent, "reached", answers={"vend_en_ligne": "Non"})
    _call(db, w, c2, "changed_mind", agent, "reached", answers={"vend_en_ligne": "non"})
    _call(db, w, c2, "changed_mind", agent, "reached", answers={"vend_en_ligne": "oui"})
    _call(db, w, c2, "declined", agent, "reached", referral="declined")
    _call(db, w, c2, "accepted", agent, "reached", referral="accepted")
    for key in ("refused_dnc", "refused_ceased", "refused_bre"):
        _call(db, w, c2, key, agent, "refused")
    _call(db, w, other, "elsewhere", agent, "refused")
    with db.writing() as s:
        s.execute(
            Business.__table__.update()
            .where(Business.id == w.biz["refused_dnc"])
            .values(do_not_call=True)
        )
        s.execute(
            Business.__table__.update()
            .where(Business.id == w.biz["refused_ceased"])
            .values(status="ceased")
        )
    return w


def _run(db_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", db_url, *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def _queued(db: Database, w: World, name: str) -> set[str]:
    names = {v: k for k, v in w.biz.items()}
    with db.reading() as s:
        cid = s.scalar(select(Campaign.id).where(Campaign.name == name))
        ids = s.scalars(select(CallTask.business_id).where(CallTask.campaign_id == cid))
        return {names[i] for i in ids}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            ["--outcome", "refused,no_answer"],
            {"refused", "no_answer", "refused_bre"},  # later_reached's last call was reached
        ),
        (["--referral-state", "declined"], {"declined"}),
        (["--referral-state", "declined,accepted"], {"declined", "accepted"}),
        (["--answer", "vend_en_ligne=non"], {"says_no"}),  # case ignored; latest answer only
        (
            ["--outcome", "reached", "--answer", "vend_en_ligne=oui"],
            {"later_reached", "changed_mind"},
        ),
        (
            [],  # every callable business of C2, called or not
            {
                "refused",
                "no_answer",
                "later_reached",
                "says_no",
                "changed_mind",
                "declined",
                "accepted",
                "refused_bre",
                "untouched",
            },
        ),  # fmt: skip
    ],
)
def test_create_from_queues_exactly_the_matching_businesses(
    db: Database, db_url: str, world: World, filters: list[str], expected: set[str]
) -> None:
    code, out = _run(db_url, "campaign", "create", "Relance", "--from", "C2", *filters,
                     "--as", "sup_nat")  # fmt: skip
    assert code == 0, out
    assert _queued(db, world, "Relance") == expected
    added = re.search(r"(\d+) entreprises? ajoutées? à la file de Relance", out)
    assert added is not None and int(added.group(1)) == len(expected), out
    with db.reading() as s:
        detail = s.scalar(select(AuditLog.detail).where(AuditLog.action == "campaign_fill"))
    assert isinstance(detail, dict) and detail["segment"]["from"] == "C2"


def test_do_not_call_and_ceased_are_left_out_and_counted(
    db: Database, db_url: str, world: World
) -> None:
    code, out = _run(db_url, "campaign", "create", "Relance", "--from", "C2", "--outcome",
                     "refused", "--as", "sup_nat")  # fmt: skip
    assert code == 0, out
    assert _queued(db, world, "Relance") == {"refused", "refused_bre"}
    assert re.search(r"\b1 en opposition écartées?\)", out), out


def test_regional_supervisor_gets_their_chamber_only(
    db: Database, db_url: str, world: World
) -> None:
    code, out = _run(db_url, "campaign", "create", "Relance IDF", "--from", "C2", "--outcome",
                     "refused", "--as", "sup_idf")  # fmt: skip
    assert code == 0, out
    assert _queued(db, world, "Relance IDF") == {"refused"}
    code, out = _run(db_url, "campaign", "create", "Relance 2", "--from", "Bretagne seule",
                     "--as", "sup_idf")  # fmt: skip
    assert code != 0 and "autre chambre" in out


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (["--from", "C9"], "campagne inconnue : C9"),
        (["--from", "C2", "--outcome", "joint"], "--outcome joint : au choix reached"),
        (["--from", "C2", "--referral-state", "perdu"], "--referral-state perdu : au choix"),
        (["--from", "C2", "--answer", "ouvert=oui"], "n'a pas cette question"),
        (["--from", "C2", "--answer", "vend_en_ligne=peut-être"], "réponses possibles oui, non"),
        (["--from", "C2", "--answer", "vend_en_ligne"], "attendu clé=réponse"),
        (["--outcome", "refused"], "--from"),
    ],
)
def test_bad_filters_are_refused_and_create_nothing(
    db: Database, db_url: str, world: World, filters: list[str], message: str
) -> None:
    code, out = _run(db_url, "campaign", "create", "Relance", *filters, "--as", "sup_nat")
    assert code != 0 and message in out, out
    with db.reading() as s:
        assert s.scalar(select(func.count()).where(Campaign.name == "Relance")) == 0


def test_fill_takes_the_same_filters(db: Database, db_url: str, world: World) -> None:
    code, out = _run(db_url, "campaign", "create", "Relance", "--as", "sup_nat")
    assert code == 0, out
    code, out = _run(db_url, "campaign", "fill", "Relance", "--from", "C2",
                     "--referral-state", "accepted", "--as", "sup_nat")  # fmt: skip
    assert code == 0, out
    assert _queued(db, world, "Relance") == {"accepted"}
