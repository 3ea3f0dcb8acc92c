"""Files a command delivers (exports, reports, rejects, backups): whole or not at all.

Every such file is first written to a temporary file created exclusively (O_CREAT | O_EXCL |
O_NOFOLLOW, a random name, `.NAME.XXXX.partial`) in the target's own directory, so a planted
symlink or device is never written through and the final rename stays on one filesystem. The
caller does what must come before delivery (the audit row of an export) and then `deliver()`s:
the temporary file is synced and linked into place, never over an existing file unless asked
(`force`), and never over anything but a regular file. Any failure removes the temporary file,
and an OSError becomes a one-line message naming the file and the cause (read-only filesystem,
disk full, permission denied...). The file keeps the temporary file's mode, 0600: what is
exported holds personal data, readable by its owner only until they share it.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from outreach.errors import InvalidInput
from outreach.i18n import _


def os_error_message(path: Path | str, exc: OSError) -> str:
    """A one-line message for `exc` met while writing `path`."""
    reasons = {
        errno.EROFS: _("système de fichiers en lecture seule"),
        errno.ENOSPC: _("disque plein"),
        errno.EDQUOT: _("quota disque dépassé"),
        errno.EFBIG: _("fichier trop gros pour ce système de fichiers (disque plein ?)"),
        errno.EACCES: _("permission refusée"),
        errno.EPERM: _("opération non permise"),
        errno.ENOENT: _("dossier introuvable"),
        errno.ENOTDIR: _("dossier introuvable"),
        errno.EISDIR: _("c'est un dossier"),
        errno.ELOOP: _("lien symbolique refusé"),
        errno.EEXIST: _("le fichier existe déjà (--force pour le remplacer)"),
    }
    reason = reasons.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    return _("impossible d'écrire {path} : {reason}").format(path=path, reason=reason)


def check_target(path: Path, *, force: bool = False) -> None:
    """InvalidInput unless `path` may be delivered: its directory exists, and nothing is there
    yet (or, with `force`, a regular file: never a symlink, a device or a directory)."""
    parent = path.parent
    if not parent.is_dir():
        raise InvalidInput(_("dossier introuvable : {path}").format(path=parent))
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InvalidInput(os_error_message(path, exc)) from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(
            _(
                "{path} existe et n'est pas un fichier ordinaire (lien, dossier ou périphérique) : "
                "choisissez un autre nom"
            ).format(path=path)
        )
    if not force:
        raise InvalidInput(_("{path} existe déjà (--force pour le remplacer)").format(path=path))


class SafeFile:
    """A temporary file beside `path`, delivered to `path` by `deliver()`; see the module notes.

    Use it as a context manager: leaving the block without `deliver()` (an error, an early
    return) removes the temporary file; an OSError inside the block becomes InvalidInput.
    `file` is the open binary file; `temp` its path (for writers that need a name, as SQLite)."""

    def __init__(self, path: Path | str, *, force: bool = False) -> None:
        self.path = Path(path)
        self.force = force
        check_target(self.path, force=force)
        try:
            # mkstemp opens with O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600
            fd, name = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent
            )
        except OSError as exc:
            raise InvalidInput(os_error_message(self.path, exc)) from None
        self.temp = Path(name)
        self.file: BinaryIO = os.fdopen(fd, "w+b")
        self.delivered = False

    def __enter__(self) -> SafeFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.delivered:
            self.discard()
        if isinstance(exc, OSError):
            raise InvalidInput(os_error_message(self.path, exc)) from None

    def discard(self) -> None:
        """Close and remove the temporary file (nothing is delivered)."""
        try:
            self.file.close()
        except OSError:
            pass  # a full disk fails the last flush too: the file goes anyway
        self.temp.unlink(missing_ok=True)

    def deliver(self) -> None:
        """Sync the temporary file and put it at `path`: linked (fails if a file appeared there
        meanwhile) or, with `force`, renamed over the regular file there."""
        try:
            if not self.file.closed:
                self.file.flush()
                os.fsync(self.file.fileno())
                self.file.close()
            else:  # the writer closed it, as writers do: sync it through a fresh descriptor
                fd = os.open(self.temp, os.O_RDONLY | os.O_NOFOLLOW)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            check_target(self.path, force=self.force)
            if self.force:
                os.replace(self.temp, self.path)
            else:
                try:
                    os.link(self.temp, self.path, follow_symlinks=False)
                except OSError as exc:
                    if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                        raise
                    os.replace(self.temp, self.path)  # no hard links here (FAT, some FUSE)
                else:
                    self.temp.unlink()
            _sync_directory(self.path.parent)
        except OSError as exc:
            self.discard()
            raise InvalidInput(os_error_message(self.path, exc)) from None
        self.delivered = True


def _sync_directory(directory: Path) -> None:
    """The rename survives a power cut (where the platform allows syncing a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["SafeFile", "check_target", "os_error_message"]
