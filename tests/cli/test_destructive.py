"""Destructive commands show what they will do, `--dry-run` stops there, `--yes` is for scripts,
a terminal asks (issue #16: `gdpr purge --older-than 3y` erased 2,622 businesses at once)."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from outreach.cli import cli
from outreach.db.engine import Database
from outreach.db.models import Business
from outreach.services.clock import utcnow
from tests.cli.terminal import in_a_terminal
from tests.factories import make_agent, make_business

OLD = utcnow() - timedelta(days=4 * 365)


def _erased(db: Database) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).where(Business.phone.is_(None))) or 0)


def _world(db: Database) -> list[str]:
    make_agent(db, "sup.nat", chamber="CMAF", role="supervisor")
    old = [make_business(db, f"Ancienne {i}", created_at=OLD) for i in range(3)]
    make_business(db, "Récente")
    with db.reading() as s:
        return list(s.scalars(select(Business.siret).where(Business.id.in_(old))))


def test_purge_previews_then_needs_yes_in_a_script(db: Database, db_url: str) -> None:
    sirets = _world(db)
    runner = CliRunner()
    args = ["--db", db_url, "gdpr", "purge", "--older-than", "3y", "--as", "sup.nat"]
    dry = runner.invoke(cli, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("purge : 3 entreprises sur 4 n'ont pas été contactées depuis")
    assert all(siret in dry.output for siret in sirets) and "essai à blanc" in dry.output
    assert _erased(db) == 0
    refused = runner.invoke(cli, args)
    assert refused.exit_code == 1 and "relancez avec --yes" in refused.output
    assert _erased(db) == 0
    done = runner.invoke(cli, [*args, "--yes"])
    assert done.exit_code == 0 and "3 entreprises effacées" in done.output
    assert _erased(db) == 3


def test_a_terminal_asks_and_no_keeps_everything(sqlite_db: Database) -> None:
    _world(sqlite_db)
    env = {"OUTREACH_DATABASE_URL": sqlite_db.url.render_as_string(hide_password=False)}
    args = ["gdpr", "purge", "--older-than", "3y", "--as", "sup.nat"]
    out = in_a_terminal(args, ["n"], env)
    assert "Confirmer ? [y/N]" in out and "abandon : rien n'a été changé" in out, out
    assert _erased(sqlite_db) == 0
    out = in_a_terminal(args, ["y"], env)
    assert "3 entreprises effacées" in out, out
    assert _erased(sqlite_db) == 3


def test_erase_shows_the_business_first(db: Database, db_url: str) -> None:
    siret = _world(db)[0]
    args = ["--db", db_url, "gdpr", "erase", "--siret", siret, "--as", "sup.nat"]
    dry = CliRunner().invoke(cli, [*args, "--dry-run"])
    assert f"effacement des données personnelles de {siret} Ancienne 0" in dry.output
    assert _erased(db) == 0
    assert CliRunner().invoke(cli, [*args, "-y"]).exit_code == 0
    assert _erased(db) == 1
