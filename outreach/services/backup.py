"""A consistent copy of a live SQLite database, with SQLite's online backup API.

The copy is read in one read transaction while other connections keep writing (WAL mode), so
it is one consistent moment of the database. It is written to a temporary file beside the target
(services/safefile: created exclusively, removed on any failure) and delivered only whole and
checked (PRAGMA integrity_check): a copy interrupted halfway, or of a damaged database, never
looks like a backup. PostgreSQL is backed up with pg_dump.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from outreach.db.engine import Database
from outreach.errors import InvalidInput
from outreach.i18n import _
from outreach.services.safefile import SafeFile


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
    with SafeFile(path, force=overwrite) as safe:
        # SQLite writes the (empty, exclusively created, owner-only: 0600) file by its name
        safe.file.close()
        try:
            src = sqlite3.connect(source, timeout=30)
            try:
                dst = sqlite3.connect(safe.temp)
                try:
                    # all pages in one step, inside one read transaction: in WAL mode writers go
                    # on meanwhile, and the copy is the moment the step began (copying in
                    # several steps would restart after every commit of a busy writer)
                    src.backup(dst, pages=-1)
                    # one file, no WAL beside it: the copy opens anywhere as it is
                    dst.execute("PRAGMA journal_mode = DELETE")
                    integrity = str(dst.execute("PRAGMA integrity_check").fetchone()[0])
                finally:
                    dst.close()
            finally:
                src.close()
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(
                _(
                    "copie impossible : la base {path} est illisible ou endommagée ({reason})"
                ).format(path=source, reason=exc)
            ) from None
        if integrity != "ok":
            raise InvalidInput(
                _("copie refusée : la vérification de la copie a échoué ({reason})").format(
                    reason=integrity[:200]
                )
            )
        safe.deliver()
    return BackupResult(path, path.stat().st_size, integrity)
