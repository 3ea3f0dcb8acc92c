"""An import run by a regional supervisor connected as themselves (row-level security on):
a row of another chamber's firm, which their role cannot even see, is the same clear reject as
on SQLite (line, field, reason), and the rest of the file is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business, CallTask
from outreach.services.access import require_supervisor
from outreach.services.importer import import_businesses
from tests.faults.test_import_scope import B6, NEW, csv_file, rejects_of
from tests.security.conftest import Roles
from tests.supervision.builders import World, build_world

pytestmark = pytest.mark.postgresql

REASON = "entreprise suivie par une autre chambre : hors du périmètre de l'import (BRE)"


@pytest.fixture
def world(pg_db: Database) -> World:
    return build_world(pg_db)


def _business(db: Database, siret: str) -> Business | None:
    with db.reading() as s:
        return s.execute(select(Business).where(Business.siret == siret)).scalar_one_or_none()


@pytest.mark.parametrize("batch_size", [5_000, 1])
@pytest.mark.parametrize("dry_run", [False, True])
def test_regional_supervisors_role_gets_the_clear_reject(
    pg_db: Database, roles: Roles, world: World, tmp_path: Path, batch_size: int, dry_run: bool
) -> None:
    login = roles.add("bre.superviseur", "BRE", "supervisor").login
    mine = roles.database(login)
    path = csv_file(
        tmp_path / "hijack.csv",
        f"{B6};Détourné SARL;35000;02 99 00 00 01",  # an IDF firm, given a Rennes address
        f"{NEW};Nouvelle Bretonne;35000;02 99 00 00 02",
    )
    person = require_supervisor(mine, login)
    summary = import_businesses(
        mine, person, path, campaign="c3", batch_size=batch_size, dry_run=dry_run
    )
    assert (summary.read, summary.new, summary.updated, summary.rejected) == (2, 1, 0, 1)
    assert [(r.line, r.field, r.value, r.reason) for r in summary.first_rejects] == [
        (2, "SIRET", B6, REASON)
    ]
    b6 = _business(pg_db, B6)
    assert b6 is not None
    assert (b6.name, b6.phone, b6.chamber_id) == (
        "Entreprise b6",
        "+33612345678",
        world.chamber["IDF"],
    )
    if dry_run:
        assert summary.queued == 1 and _business(pg_db, NEW) is None
        return
    assert rejects_of(tmp_path / "hijack.rejets.csv")[0]["reason"] == REASON
    new = _business(pg_db, NEW)
    assert new is not None and new.name == "Nouvelle Bretonne"
    with pg_db.reading() as s:
        assert s.scalars(select(CallTask.business_id)).all() == [new.id]
        batches = s.scalars(select(AuditLog.detail).where(AuditLog.action == "import.batch")).all()
    assert any(d.get("refused") == [B6] for d in batches)


def test_the_import_command_as_the_regional_supervisor(
    pg_db: Database, roles: Roles, world: World, tmp_path: Path
) -> None:
    login = roles.add("bre.superviseur", "BRE", "supervisor").login
    path = csv_file(tmp_path / "l.csv", f"{B6};Détourné SARL;35000;")
    r = CliRunner().invoke(
        cli, ["--db", roles.url(login), "import", "businesses", str(path)], obj=AppContext(), env={}
    )
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output and "psycopg" not in r.output
    assert "ligne 2" in r.output and REASON in r.output
    b6 = _business(pg_db, B6)
    assert b6 is not None and b6.name == "Entreprise b6"
