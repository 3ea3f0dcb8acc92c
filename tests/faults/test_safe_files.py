"""Exports, reports, rejects and backups: written whole or not at all, never through a planted
symlink or over a device, audited before delivery, an existing file only with --force, a
read-only directory or a full disk a one-line message (real files, symlinks, tmpfs mounts)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AuditLog
from outreach.errors import InvalidInput
from outreach.services.access import require_supervisor
from outreach.services.export import ExportRequest, ExportResult, export
from outreach.services.safefile import SafeFile
from tests.supervision.builders import World, build_world

ROOT = Path(__file__).resolve().parents[2]
ROOT_USER = os.geteuid() == 0


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def run_export(db: Database, out: Path, fmt: str = "csv", force: bool = False) -> ExportResult:
    sup = require_supervisor(db, "sup_nat")
    return export(db, sup, ExportRequest("calls", fmt, out, force=force))


def audits(db: Database) -> int:
    with db.reading() as s:
        return int(
            s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export"))
            or 0
        )


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_planted_partial_symlink_is_never_followed(
    db: Database, world: World, tmp_path: Path, fmt: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("précieux")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / f"appels.{fmt}"
    # the names the old code used, and any a guess could make
    (out_dir / f"appels.{fmt}.partial").symlink_to(victim)
    (out_dir / f".appels.{fmt}.partial").symlink_to(victim)
    result = run_export(db, out, fmt)
    assert result.rows == 9
    assert victim.read_text() == "précieux"
    assert out.is_file() and not out.is_symlink() and out.stat().st_size > 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # personal data: its owner's only
    assert (out_dir / f"appels.{fmt}.partial").is_symlink()  # the plant is left as it was
    assert len(list(out_dir.iterdir())) == 3


def test_existing_file_needs_force_and_links_or_devices_never_replaced(
    db: Database, world: World, tmp_path: Path
) -> None:
    out = tmp_path / "appels.csv"
    out.write_text("ancien")
    with pytest.raises(InvalidInput, match=r"existe déjà \(--force pour le remplacer\)"):
        run_export(db, out)
    assert out.read_text() == "ancien" and audits(db) == 0
    run_export(db, out, force=True)
    assert out.read_text(encoding="utf-8-sig").startswith("call_uuid")
    victim = tmp_path / "victim.txt"
    victim.write_text("précieux")
    link = tmp_path / "lien.csv"
    link.symlink_to(victim)
    fifo = tmp_path / "tube.csv"
    os.mkfifo(fifo)
    for target in (link, fifo, Path("/dev/full"), tmp_path):
        with pytest.raises(InvalidInput, match="n'est pas un fichier ordinaire|dossier"):
            run_export(db, target, force=True)
    assert victim.read_text() == "précieux" and link.is_symlink()
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert leftovers(tmp_path) == [] and audits(db) == 1


def test_cli_force_flag(db_url: str, world: World, tmp_path: Path) -> None:
    out = tmp_path / "appels.csv"
    out.write_text("ancien")
    args = ["--db", db_url, "export", "calls", "--out", str(out), "--as", "sup_nat"]
    r = CliRunner().invoke(cli, args, obj=AppContext())
    assert r.exit_code == 1 and "--force" in r.output and "Traceback" not in r.output
    assert out.read_text() == "ancien"
    r = CliRunner().invoke(cli, [*args, "--force"], obj=AppContext())
    assert r.exit_code == 0, r.output
    assert "9 lignes écrites" in r.output


def test_no_audit_row_no_file(db: Database, world: World, tmp_path: Path) -> None:
    """The audit row is written before the file is delivered: a database that refuses the
    audit row (a real trigger) gets no file, and no temporary file stays behind."""
    with db.writing() as s:
        if db.is_sqlite:
            s.connection().exec_driver_sql(
                "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit refusé'); END"
            )
        else:
            s.connection().exec_driver_sql(
                "CREATE FUNCTION no_audit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit refusé'; END $$"
            )
            s.connection().exec_driver_sql(
                "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION no_audit()"
            )
    out = tmp_path / "appels.xlsx"
    with pytest.raises(Exception, match="audit refusé"):
        run_export(db, out, "xlsx")
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """A mount point under tmp_path (root only: mount needs it)."""
    point = tmp_path / "mnt"
    point.mkdir()
    yield point
    subprocess.run(["umount", "--lazy", str(point)], check=False)


def mount(point: Path, options: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], check=True)


@pytest.mark.skipif(not ROOT_USER, reason="mounting a tmpfs needs root")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_full_disk_is_a_message_and_leaves_nothing(
    db: Database, world: World, mounted: Path, fmt: str
) -> None:
    mount(mounted, "size=16k")
    with (mounted / "ballast").open("wb", buffering=0) as ballast:  # fill it to the last page
        with pytest.raises(OSError):
            while True:
                ballast.write(b"x" * 1024)
    with pytest.raises(InvalidInput) as err:
        run_export(db, mounted / f"appels.{fmt}", fmt)
    assert str(err.value) == f"impossible d'écrire {mounted}/appels.{fmt} : disque plein"
    assert sorted(p.name for p in mounted.iterdir()) == ["ballast"]
    assert audits(db) == 0


@pytest.mark.skipif(not ROOT_USER, reason="mounting a tmpfs needs root")
def test_read_only_filesystem_is_a_message(db: Database, world: World, mounted: Path) -> None:
    mount(mounted, "ro,size=64k")
    with pytest.raises(InvalidInput) as err:
        run_export(db, mounted / "appels.csv")
    assert "système de fichiers en lecture seule" in str(err.value)


@pytest.mark.skipif(ROOT_USER, reason="root writes into a read-only directory anyway")
def test_read_only_directory_is_a_message(db: Database, world: World, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(InvalidInput, match="permission refusée"):
            run_export(db, locked / "appels.csv")
    finally:
        locked.chmod(0o755)


def test_file_size_limit_through_the_cli(sqlite_db: Database, tmp_path: Path) -> None:
    """A full disk as any user sees it: a file-size limit (EFBIG) on the real command."""
    build_world(sqlite_db)
    out = tmp_path / "appels.csv"
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (600, 600))\n"
        "from outreach.cli import main\n"
        "sys.argv = ['outreach'] + sys.argv[1:]\n"
        "main()\n"
    )
    url = sqlite_db.url.render_as_string(hide_password=False)
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "--db",
            url,
            "export",
            "calls",
            "--out",
            str(out),
            "--as",
            "sup_nat",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert f"impossible d'écrire {out} : fichier trop gros" in r.stderr + r.stdout
    assert not out.exists() and leftovers(tmp_path) == []


def test_safe_file_discards_on_error(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    with pytest.raises(RuntimeError), SafeFile(target) as f:
        f.file.write(b"moitie")
        raise RuntimeError("coupure")
    assert list(tmp_path.iterdir()) == []
    with SafeFile(target) as f:
        f.file.write(b"entier")
        f.deliver()
    assert target.read_bytes() == b"entier" and list(tmp_path.iterdir()) == [target]


def test_report_and_rejects_use_the_safe_writer(db: Database, world: World, tmp_path: Path) -> None:
    from outreach.services.importer import import_businesses
    from outreach.services.report import write_report

    sup = require_supervisor(db, "sup_nat")
    write_report(db, sup, tmp_path)
    with pytest.raises(InvalidInput, match="--force"):
        write_report(db, sup, tmp_path)
    write_report(db, sup, tmp_path, force=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("précieux")
    src = tmp_path / "liste.csv"
    src.write_text("SIRET;Raison sociale;Code postal\n123;X;35000\n", encoding="utf-8")
    (tmp_path / "liste.rejets.csv").symlink_to(victim)
    with pytest.raises(InvalidInput, match="n'est pas un fichier ordinaire"):
        import_businesses(db, sup, src)
    assert victim.read_text() == "précieux" and leftovers(tmp_path) == []
