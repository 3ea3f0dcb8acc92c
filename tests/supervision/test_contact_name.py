"""businesses.contact_name, the person to ask for: read by the import (Contact, Dirigeant...),
kept by a re-import without the column, exported, erased under the RGPD, filled by the demo
seed (both backends, real files)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.db import models as m
from outreach.db.engine import Database
from outreach.domain.text import fold
from outreach.services.access import require_supervisor
from outreach.services.gdpr import erase_business
from outreach.services.importer import import_businesses
from outreach.services.seeding import seed_demo
from outreach.services.seeding.pools import make_pools
from tests.supervision.builders import World, build_world, make_siret
from tests.supervision.test_export import do, read_csv

A, B, C = make_siret(701), make_siret(702), make_siret(703)


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def _contacts(db: Database) -> dict[str, str | None]:
    with db.reading() as s:
        return dict(
            s.execute(
                select(m.Business.siret, m.Business.contact_name).where(
                    m.Business.siret.in_([A, B, C])
                )
            ).all()
        )


@pytest.mark.parametrize("header", ["Dirigeant", "Contact", "Nom du gérant", "Interlocuteur"])
def test_import_reads_the_contact_column(
    db: Database, world: World, tmp_path: Path, header: str
) -> None:
    path = tmp_path / "liste.csv"
    path.write_text(
        f"SIRET;Raison sociale;Code postal;{header}\n"
        f"{A};Boulangerie A;35000;  Anne   Le Goff \n"
        f"{B};Boucherie B;35000;\n"
        f"{C};Coiffure C;35000;{'X' * 150}\n",
        encoding="utf-8",
    )
    sup = require_supervisor(db, "sup_bre")
    summary = import_businesses(db, sup, path)
    assert summary.columns["contact_name"] == header and summary.rejected == 0
    assert _contacts(db) == {A: "Anne Le Goff", B: None, C: "X" * 120}
    # a list without the column (or with it empty) keeps the contact known
    again = tmp_path / "sans.csv"
    again.write_text(f"SIRET;Raison sociale;Code postal\n{A};Boulangerie A;35000\n", "utf-8")
    import_businesses(db, sup, again)
    assert _contacts(db)[A] == "Anne Le Goff"
    # exported with the business; erased with its other personal data
    do(db, "sup_bre", "businesses", "csv", tmp_path / "b.csv")
    rows = {r["siret"]: r for r in read_csv(tmp_path / "b.csv")}
    assert rows[A]["contact_name"] == "Anne Le Goff" and rows[B]["contact_name"] == ""
    erase_business(db, "sup_nat", A, "demande du gérant")
    assert _contacts(db)[A] is None


def test_a_nul_in_the_contact_is_a_reject(db: Database, world: World, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_text(
        f"SIRET;Raison sociale;Code postal;Dirigeant\n{A};Boulangerie A;35000;An\x00ne\n", "utf-8"
    )
    summary = import_businesses(db, require_supervisor(db, "sup_bre"), path)
    (reject,) = summary.first_rejects
    assert (reject.line, reject.field, reject.reason) == (2, "Dirigeant", "caractère nul")


def test_demo_seed_fills_the_contact(sqlite_db: Database) -> None:
    seed_demo(sqlite_db, seed=3, now=datetime(2026, 11, 27, 14, 30))
    pools = make_pools(3)
    firsts, lasts = set(pools.first_names), set(pools.last_names)
    with sqlite_db.reading() as s:
        total = s.scalar(select(func.count(m.Business.id)))
        rows = s.execute(
            select(m.Business.contact_name, m.Business.email).where(
                m.Business.contact_name.is_not(None)
            )
        ).all()
    assert total is not None and 0.8 * total <= len(rows) < total
    with_email = 0
    for name, email in rows:
        assert name is not None  # the query's filter
        first, last = next(
            (f, name[len(f) + 1 :])
            for f in firsts
            if name.startswith(f + " ") and name[len(f) + 1 :] in lasts
        )
        if email:  # the e-mail is the contact's own
            with_email += 1
            slug = fold(first).replace(" ", "-") + "." + fold(last).replace(" ", "-")
            assert email.split("@")[0] == slug, (name, email)
    assert with_email
    with sqlite_db.reading() as s:
        assert not s.scalar(
            select(func.count(m.Business.id)).where(
                m.Business.email.is_not(None), m.Business.contact_name.is_(None)
            )
        )
