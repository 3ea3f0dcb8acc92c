"""`outreach dnc add|lift|show|list`: the rule and audit of an opposition taken in a call,
for supervisors in their scope, by SIRET."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from outreach.cli import cli
from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business, CallTask
from outreach.domain.siret import format_siret
from tests.factories import make_agent, make_business, make_campaign, make_task


def _run(db_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", db_url, *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def _siret(db: Database, business: int) -> str:
    with db.reading() as s:
        return str(s.scalar(select(Business.siret).where(Business.id == business)))


def _audit(db: Database, business: int) -> list[tuple[str, int | None, object]]:
    with db.reading() as s:
        return [
            (a.action, a.agent_id, a.detail)
            for a in s.scalars(
                select(AuditLog)
                .where(AuditLog.entity == "business", AuditLog.entity_id == str(business))
                .order_by(AuditLog.id)
            )
        ]


@pytest.fixture
def people(db: Database) -> dict[str, int]:
    return {
        "sup_idf": make_agent(db, "sup_idf", role="supervisor"),
        "sup_bre": make_agent(db, "sup_bre", role="supervisor", chamber="BRE"),
        "agent": make_agent(db, "conseiller"),
    }


def test_add_show_lift_list(db: Database, db_url: str, people: dict[str, int]) -> None:
    biz = make_business(db, "Boulangerie Dupont", department="75")
    other = make_business(db, "Garage Martin", department="75")
    camps = [make_campaign(db), make_campaign(db)]
    tasks = [make_task(db, c, biz) for c in camps]
    siret = _siret(db, biz)

    # typed as people type it: with spaces
    code, out = _run(
        db_url, "dnc", "add", "--siret", format_siret(siret), "--reason", "courrier du gérant",
        "--as", "sup_idf",
    )  # fmt: skip
    assert code == 0, out
    assert f"SIRET {siret} : opposition enregistrée, 2 tâches annulées" in out
    with db.reading() as s:
        b = s.get(Business, biz)
        assert b is not None and b.do_not_call and b.do_not_call_at is not None
        states = s.scalars(select(CallTask.state).where(CallTask.id.in_(tasks))).all()
    assert set(states) == {"cancelled"}
    # the same audit row as an opposition taken in a call (queue.dnc.opt_out)
    [(action, agent, detail)] = _audit(db, biz)
    assert action == "business.do_not_call" and agent == people["sup_idf"]
    assert isinstance(detail, dict) and detail["reason"] == "courrier du gérant"
    assert sorted(detail["tasks_cancelled"]) == sorted(tasks)

    # a second add changes nothing and writes nothing
    code, out = _run(db_url, "dnc", "add", "--siret", siret, "--reason", "x", "--as", "sup_idf")
    assert code == 0 and "déjà en opposition" in out
    assert len(_audit(db, biz)) == 1

    code, out = _run(db_url, "dnc", "show", "--siret", siret, "--as", "sup_idf")
    assert code == 0, out
    assert "Boulangerie Dupont [IDF] : en opposition depuis le" in out
    assert "sup_idf  courrier du gérant" in out

    code, out = _run(db_url, "dnc", "list", "--as", "sup_idf")
    assert code == 0, out
    assert out.splitlines()[0] == "1 entreprise en opposition"
    assert siret in out and _siret(db, other) not in out and "courrier du gérant" in out

    code, out = _run(
        db_url,
        "dnc",
        "lift",
        "--siret",
        siret,
        "--reason",
        "erreur de saisie",
        "--as",
        "sup_idf",
        "--yes",
    )
    assert code == 0 and f"SIRET {siret} : opposition levée" in out, out
    with db.reading() as s:
        b = s.get(Business, biz)
        assert b is not None and not b.do_not_call and b.do_not_call_at is None
        # lifting does not reopen what the opposition cancelled
        assert set(s.scalars(select(CallTask.state).where(CallTask.id.in_(tasks)))) == {"cancelled"}
    assert [a for a, _, _ in _audit(db, biz)] == [
        "business.do_not_call",
        "business.do_not_call_lifted",
    ]
    code, out = _run(db_url, "dnc", "lift", "--siret", siret, "--reason", "x", "--as", "sup_idf")
    assert code == 0 and "aucune opposition à lever" in out
    code, out = _run(db_url, "dnc", "show", "--siret", siret, "--as", "sup_idf")
    assert ": pas d'opposition" in out and "levée  sup_idf  erreur de saisie" in out
    code, out = _run(db_url, "dnc", "list", "--as", "sup_idf")
    assert out.splitlines() == ["0 entreprise en opposition"]


def test_refused_outside_scope_for_agents_and_bad_input(
    db: Database, db_url: str, people: dict[str, int]
) -> None:
    biz = make_business(db, "Crêperie", department="35")  # Bretagne
    siret = _siret(db, biz)
    args = ["dnc", "add", "--siret", siret, "--reason", "courrier"]

    code, out = _run(db_url, *args, "--as", "sup_idf")
    assert code != 0 and "n'est pas dans son périmètre" in out
    code, out = _run(db_url, *args, "--as", "conseiller")
    assert code != 0 and "conseiller" in out and "superviseurs" in out
    code, out = _run(db_url, "dnc", "add", "--siret", siret, "--as", "sup_bre")
    assert code != 0 and "motif obligatoire" in out
    code, out = _run(db_url, "dnc", "add", "--siret", "123", "--reason", "x", "--as", "sup_bre")
    assert code != 0 and "SIRET invalide" in out
    code, out = _run(db_url, "dnc", "add", "--siret", "0" * 14, "--reason", "x", "--as", "sup_bre")
    assert code != 0 and "aucune entreprise avec le SIRET" in out
    code, out = _run(db_url, "dnc", "list", "--chamber", "BRE", "--as", "sup_idf")
    assert code != 0 and "pas dans son périmètre" in out
    with db.reading() as s:
        assert s.scalar(select(Business.do_not_call).where(Business.id == biz)) is False
    assert _audit(db, biz) == []

    code, out = _run(db_url, *args, "--as", "sup_bre")
    assert code == 0, out
    code, out = _run(db_url, "dnc", "list", "--chamber", "BRE", "--as", "sup_bre")
    assert out.splitlines()[0] == "1 entreprise en opposition"
    code, out = _run(db_url, "dnc", "list", "--as", "sup_idf")
    assert out.splitlines()[0] == "0 entreprise en opposition"
