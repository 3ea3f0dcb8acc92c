"""The lockdown report script: XLSX read back, HTML self-contained with SVG charts, French."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from outreach.db.engine import Database
from outreach.services.access import require_supervisor
from outreach.services.goals import set_goal
from tests.supervision.builders import World, build_world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lockdown_report.py"), "--db", db_url, *args],
        capture_output=True,
        text=True,
        env={"OUTREACH_LANG": "fr", "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        timeout=120,
    )


def test_report_in_one_run(db: Database, db_url: str, world: World, tmp_path: Path) -> None:
    nat = require_supervisor(db, "sup_nat")
    set_goal(db, nat, "diagnostics", 5000, date(2021, 3, 31), starts_on=date(2020, 10, 30))
    r = run(db_url, "--as", "sup_nat", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    xlsx, page = (
        tmp_path / "out" / "bilan-confinements.xlsx",
        tmp_path / "out" / "bilan-confinements.html",
    )
    assert "bilan écrit" in r.stdout
    book = openpyxl.load_workbook(xlsx, read_only=True)
    assert book.sheetnames == [
        "Confinements",
        "Chambres",
        "Confinements x chambres",
        "Résultats",
        "Orientations",
    ]
    rows = [list(x) for x in book["Confinements"].iter_rows(values_only=True)]
    assert rows[0][:4] == [
        "Confinement",
        "Contacts (appels)",
        "Entreprises contactées",
        "Entreprises jointes",
    ]
    assert rows[1][:4] == ["Confinement 1", 4, 3, 2]
    assert rows[4][:4] == ["Total", 9, 6, 5]  # b1 and b6 counted once in the total
    chambers = [list(x) for x in book["Chambres"].iter_rows(values_only=True)]
    assert chambers[1][:2] == ["BRE", 6] and chambers[2][:2] == ["IDF", 3]
    book.close()
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="fr">' in text
    assert text.count("<svg") == 5
    assert "Contacts par confinement" in text and "Diagnostics numériques" in text
    assert "0 / 5\u202f000 (0,0 %)" in text  # proposed diagnostics are not done ones
    assert "objectif de 5\u202f000 d'ici le 31/03/2021" in text  # the scope's goal, as data
    # self-contained: no script, no external resource
    assert "<script" not in text
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "<link" not in text


def test_report_refuses_an_agent(db_url: str, world: World, tmp_path: Path) -> None:
    r = run(db_url, "--as", "agent_idf", "--out", str(tmp_path))
    assert r.returncode == 1
    assert r.stderr.startswith("erreur : agent_idf est conseiller")
    assert "Traceback" not in r.stderr


def test_regional_report_is_scoped(db_url: str, world: World, tmp_path: Path) -> None:
    r = run(db_url, "--as", "sup_bre", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    book = openpyxl.load_workbook(tmp_path / "bilan-confinements.xlsx", read_only=True)
    chambers = [list(x)[0] for x in book["Chambres"].iter_rows(values_only=True)]
    assert chambers == ["Chambre", "BRE", "Total"]
    book.close()
    assert "Chambre BRE" in (tmp_path / "bilan-confinements.html").read_text(encoding="utf-8")


def test_the_page_escapes_what_people_typed(db: Database, world: World) -> None:
    """The page comes from a Jinja2 template with autoescape: a name typed by someone (the
    author here) is text in the page, never markup."""
    import dataclasses

    from outreach.services import report

    data = report.collect(db, require_supervisor(db, "sup_nat"))
    page = report.render_html(dataclasses.replace(data, author='<script>alert("x")</script>'))
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert page.count("<svg") == 4 and "aucun objectif fixé" in page
