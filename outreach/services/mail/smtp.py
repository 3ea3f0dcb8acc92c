"""The SMTP server e-mails go through: OUTREACH_SMTP_URL, `smtp://user:pass@host:port`
(STARTTLS whenever the server offers it) or `smtps://...` (TLS from the first byte).

`?from=address` in the URL (or OUTREACH_MAIL_FROM) sets the sender; OUTREACH_SMTP_CAFILE names
the CA of a server whose certificate is not publicly signed. Failures are sorted for the
sender: `Temporary` (try again later: server away, 4xx) or `Permanent` (5xx: give up).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from outreach.errors import ConfigError
from outreach.i18n import _

ENV_SMTP_URL = "OUTREACH_SMTP_URL"
ENV_MAIL_FROM = "OUTREACH_MAIL_FROM"
ENV_CAFILE = "OUTREACH_SMTP_CAFILE"  # a private CA the server's certificate is signed by
DEFAULT_FROM = "outreach@localhost"
TIMEOUT = 30.0


class Temporary(Exception):
    """Not delivered, may be tried again (connection refused or lost, 4xx reply)."""


class Unreachable(Temporary):
    """The server could not be reached or greeted: no message can go until it is back."""


class Permanent(Exception):
    """Refused for good (5xx reply): retrying would get the same answer."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    sender: str

    def safe(self) -> str:
        """The server without its password, for messages and logs."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """`smtp://user:pass@host:port[?from=addr]`; ConfigError naming what is wrong."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            _("{env} invalide : attendu smtp://utilisateur:mot-de-passe@hôte:port").format(
                env=ENV_SMTP_URL
            )
        )
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ConfigError(_("{env} : port invalide").format(env=ENV_SMTP_URL)) from None
    query = parse_qs(parts.query)
    sender = (query.get("from") or [""])[0] or os.environ.get(ENV_MAIL_FROM, "") or DEFAULT_FROM
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=parts.scheme == "smtps",
        sender=sender,
    )


def configured() -> SmtpConfig | None:
    """The server of OUTREACH_SMTP_URL, or None when it is not set."""
    url = os.environ.get(ENV_SMTP_URL, "").strip()
    return parse_smtp_url(url) if url else None


class Connection:
    """One SMTP session, opened on the first message and kept for the next ones."""

    def __init__(self, config: SmtpConfig, tls: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.tls = tls or ssl.create_default_context(cafile=os.environ.get(ENV_CAFILE) or None)
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        c = self.config
        smtp: smtplib.SMTP
        if c.implicit_tls:
            smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=TIMEOUT, context=self.tls)
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=TIMEOUT)
        try:
            smtp.ehlo()
            if not c.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=self.tls)
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, c.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Deliver `message` to the server; Temporary or Permanent when it is not accepted."""
        if self._smtp is None:
            try:
                self._smtp = self._open()
            except smtplib.SMTPAuthenticationError as exc:
                raise Unreachable(f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
            except (OSError, smtplib.SMTPException) as exc:
                raise Unreachable(str(exc) or type(exc).__name__) from None
        try:
            refused = self._smtp.send_message(message, from_addr=self.config.sender)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _msg in exc.recipients.values()]
            raise (Temporary if all(400 <= c < 500 for c in codes) else Permanent)(
                _reply(exc.recipients)
            ) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            error = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if isinstance(exc, smtplib.SMTPAuthenticationError) or exc.smtp_code >= 500:
                raise Permanent(error) from None
            raise Temporary(error) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Temporary(str(exc) or type(exc).__name__) from None
        if refused:  # some recipients refused: there is only one
            raise Permanent(_reply(refused))

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reply(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{to}: {code} {_text(msg)}" for to, (code, msg) in recipients.items())
