"""A consistent copy of a live SQLite database, with SQLite's online backup API.

The copy is read in one read transaction while other connections keep writing (WAL mode), so
it is one consistent moment of the database. It is written to a temporary file beside the target and renamed at the end: a copy
interrupted halfway never looks like a backup. PostgreSQL is backed up with pg_dump.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from outreach.db.engine import Database, private_sqlite_file
from outreach.errors import InvalidInput
from outreach.i18n import _


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int  # bytes
    integrity: str  # "ok", from PRAGMA integrity_check on the copy


def backup_sqlite(db: Database, target: Path | str, *, overwrite: bool = False) -> BackupResult:
    """Copy the SQLite database of `db` to `target` while it stays in use; InvalidInput for a
    PostgreSQL database (use pg_dump), an in-memory database or an existing target."""
    if db.is_postgresql:
        raise InvalidInput(
            _(
                "PostgreSQL : sauvegardez avec pg_dump (ex. pg_dump -Fc -f outreach.dump "
                "NOM_DE_BASE) et restaurez avec pg_restore ; voir le README"
            )
        )
    source = db.url.database
    if not db.is_sqlite or not source or source == ":memory:":
        raise InvalidInput(_("seule une base SQLite sur fichier peut être copiée ainsi"))
    if not Path(source).exists():
        raise InvalidInput(_("base SQLite introuvable : {path}").format(path=source))
    path = Path(target)
    if path.resolve() == Path(source).resolve():
        raise InvalidInput(_("la copie ne peut pas remplacer la base elle-même"))
    if path.exists() and not overwrite:
        raise InvalidInput(_("{path} existe déjà (--force pour le remplacer)").format(path=path))
    if not path.parent.is_dir():
        raise InvalidInput(_("dossier introuvable : {path}").format(path=path.parent))
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    private_sqlite_file(partial)  # a copy holds everything the database does: owner only
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            # all pages in one step, inside one read transaction: in WAL mode writers go on
            # meanwhile, and the copy is the moment the step began (copying in several steps
            # would restart after every commit of a busy writer, possibly for ever)
            src.backup(dst, pages=-1)
            # one file, no WAL beside it: the copy opens anywhere as it is
            dst.execute("PRAGMA journal_mode = DELETE")
            integrity = str(dst.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, path)
    return BackupResult(path, path.stat().st_size, integrity)
