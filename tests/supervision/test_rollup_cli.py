"""`outreach rollup` end to end: identity, table, JSON, CSV, --verify, refusals."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner, Result

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from tests.supervision.builders import World, build_world


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def run(db_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", db_url, *args], obj=AppContext(), env=env)


def test_default_table_answers_at_a_glance(db_url: str, world: World) -> None:
    r = run(db_url, "rollup", "--as", "sup_nat")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split()[0] == "confinement"
    assert "Entreprises contactées" in lines[0]
    c1 = next(line for line in lines if line.startswith("confinement-1"))
    assert c1.split()[1:] == ["4", "3", "2", "3", "0", "1", "0"]
    total = next(line for line in lines if line.startswith("Total"))
    assert total.split()[1:] == ["9", "6", "5", "6", "0", "2", "0"]
    assert "(hors confinement)" in r.output
    assert "objectif" not in r.output  # no goal set yet: none shown (no constant target)


def test_outcomes_by_label_and_numbers_per_language(db_url: str, world: World) -> None:
    """Issue #16: labels, not codes, in the table (JSON and CSV keep the codes); numbers and
    percentages written the way each language writes them."""
    goal = ("goal", "set", "contacts", "12000", "--since", "2000-01-01", "--until", "2099-03-31")
    assert run(db_url, *goal, "--as", "sup_nat").exit_code == 0
    fr = run(db_url, "rollup", "--by", "outcome", "--as", "sup_nat")
    assert fr.output.splitlines()[0].split()[0] == "résultat"
    assert "Joint " in fr.output and "reached" not in fr.output
    assert "Contacts (national) : 9 sur 12 000 (0,1 %) d'ici le 31/03/2099" in fr.output
    en = run(db_url, "--lang", "en", "rollup", "--by", "outcome", "--as", "sup_nat")
    assert en.output.splitlines()[0].split()[0] == "outcome"
    assert "Reached " in en.output and "Contacts (national): 9 of 12,000 (0.1%)" in en.output
    codes = json.loads(
        run(db_url, "rollup", "--by", "outcome", "--format", "json", "--as", "sup_nat").output
    )
    assert "reached" in {row["outcome"] for row in codes["rows"]}


def test_json_shape_and_identity_from_env(db_url: str, world: World) -> None:
    r = run(db_url, "rollup", "--by", "chamber", "--format", "json", env={"OUTREACH_AS": "sup_bre"})
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["by"] == ["chamber"]
    assert [row["chamber"] for row in data["rows"]] == ["BRE"]
    assert data["total"]["contacts"] == 6
    assert data["total"]["click_and_collect"] == 1


def test_csv_and_verify(db_url: str, world: World) -> None:
    r = run(
        db_url,
        "rollup",
        "--by",
        "lockdown,chamber",
        "--format",
        "csv",
        "--verify",
        "--as",
        "sup_nat",
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0][:4] == ["lockdown", "chamber", "contacts", "businesses_contacted"]
    assert rows[-1][:4] == ["total", "", "9", "6"]
    assert "vérifié" in r.stderr


def test_refusals_are_one_clear_line(db_url: str, world: World) -> None:
    r = run(db_url, "rollup", "--as", "agent_bre")
    assert r.exit_code == 1
    assert r.output.strip().startswith("erreur : agent_bre est conseiller")
    assert "Traceback" not in r.output
    r = run(db_url, "rollup", "--as", "sup_bre", "--chamber", "IDF")
    assert r.exit_code == 1 and "périmètre" in r.output
    r = run(db_url, "rollup", env={"OUTREACH_AS": ""})
    assert r.exit_code == 1 and "OUTREACH_AS" in r.output
    r = run(db_url, "rollup", "--as", "sup_nat", "--by", "weather")
    assert r.exit_code == 1 and "dimension inconnue" in r.output
