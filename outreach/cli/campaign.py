"""`outreach campaign create|list|pause|resume|close|fill`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.confirm import destructive_options, go_ahead
from outreach.cli.supervision import acting_supervisor, as_option
from outreach.errors import InvalidInput
from outreach.i18n import N_, _, format_number
from outreach.services import campaigns as service
from outreach.services.earlier_results import EarlierResults, parse_answer


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


STATUS_LABELS = {
    "active": N_("en cours"),
    "paused": N_("suspendue"),
    "closed": N_("close"),
}


def _line(c: service.CampaignInfo) -> str:
    line = _(
        "{name} [{status}] {scope} {lockdown} : {open} à appeler / {tasks} en file, {calls} appels"
    ).format(
        name=c.name,
        status=_(STATUS_LABELS.get(c.status, c.status)),
        scope=c.chamber_code or _("national"),
        lockdown=c.lockdown or "-",
        open=format_number(c.open_tasks),
        tasks=format_number(c.tasks),
        calls=format_number(c.calls),
    )
    if c.removed:
        line += " ; " + _("retirées : {counts}").format(
            counts=", ".join(f"{_removed_label(k)} {n}" for k, n in sorted(c.removed.items()))
        )
    return line


def _removed_label(reason: str) -> str:
    labels = {
        "not_target": _("hors cible"),
        "handled_elsewhere": _("suivies ailleurs"),
        "flagged": _("fiches signalées"),
    }
    return labels.get(reason, reason)


@cli.group("campaign", help=N_("Campagnes d'appels : créer, lister, suspendre, clore, remplir."))
def campaign_group() -> None:
    pass


def _segment_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The segment options, handed to the command as one `segment` argument (None if empty)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        source = kwargs.pop("from_campaign")
        outcomes, states = _split(kwargs.pop("outcomes")), _split(kwargs.pop("referral_states"))
        answers = tuple(parse_answer(a) for a in kwargs.pop("answers"))
        if not source and (outcomes or states or answers):
            raise InvalidInput(
                _("--outcome, --referral-state et --answer portent sur une campagne : --from")
            )
        segment = service.Segment(
            _split(kwargs.pop("statuses")),
            _split(kwargs.pop("trades")),
            _split(kwargs.pop("departments")),
            earlier=EarlierResults(source, outcomes, states, answers) if source else None,
        )
        kwargs["segment"] = segment if segment.as_json() else None
        return fn(*args, **kwargs)

    options = (
        click.option(
            "--status",
            "statuses",
            metavar="STATUTS",
            help=N_("Statuts des entreprises, ex. closed_admin (open, closed_admin, ceased)."),
        ),
        click.option(
            "--trades",
            metavar="CODES",
            help=N_("Métiers (codes NAF/NAFA ou préfixes), ex. 96.02A,96.02B."),
        ),
        click.option("--departments", metavar="CODES", help=N_("Départements, ex. 35,56.")),
        click.option(
            "--from",
            "from_campaign",
            metavar="CAMPAGNE",
            help=N_("Les entreprises d'une campagne précédente (avec les filtres qui suivent)."),
        ),
        click.option(
            "--outcome",
            "outcomes",
            metavar="RÉSULTATS",
            help=N_("Résultat de leur dernier appel dans --from, ex. refused,no_answer."),
        ),
        click.option(
            "--referral-state",
            "referral_states",
            metavar="ÉTATS",
            help=N_("Une orientation faite dans --from est dans cet état, ex. declined."),
        ),
        click.option(
            "--answer",
            "answers",
            multiple=True,
            metavar="CLÉ=RÉPONSE",
            help=N_("Leur dernière réponse à cette question de --from (répétable)."),
        ),
    )
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


@campaign_group.command(
    "create", help=N_("Crée une campagne (et la remplit si un segment est donné).")
)
@click.argument("name")
@click.option(
    "--lockdown", metavar="NOM", help=N_("Confinement de la campagne (ex. confinement-2).")
)
@click.option(
    "--chamber",
    metavar="CODE",
    help=N_("Chambre (sinon nationale ; un superviseur régional crée pour sa chambre)."),
)
@click.option("--description", help=N_("Description."))
@click.option(
    "--max-attempts",
    type=int,
    default=5,
    show_default=True,
    help=N_("Tentatives au plus par entreprise."),
)
@click.option(
    "--max-wrap-up",
    "max_wrap_up",
    type=int,
    default=service.DEFAULT_WRAP_UP_SECONDS,
    show_default=True,
    metavar="SECONDES",
    help=N_(
        "Durée maximale de clôture (de la touche de résultat à l'entreprise suivante), en "
        "secondes : au-delà, le minuteur passe en rouge et le dépassement est compté."
    ),
)
@click.option(
    "--retry-delays",
    default="60,240,1440",
    show_default=True,
    help=N_("Délais entre tentatives, en minutes."),
)
@click.option(
    "--days", default="12345", show_default=True, help=N_("Jours d'appel ISO (1 = lundi).")
)
@click.option(
    "--hours",
    default="10:00-13:00,14:00-20:00",
    show_default=True,
    help=N_("Plages d'appel, heure locale de l'entreprise."),
)
@click.option(
    "--question",
    "questions",
    multiple=True,
    metavar="CLÉ=TEXTE",
    help=N_(
        "Question du script (répétable) : clé=texte[|choix|choix][|*] (* : autre réponse permise)."
    ),
)
@click.option(
    "--script",
    "script_file",
    type=click.Path(dir_okay=False),
    help=N_("Fichier de script : une ligne clé=texte[|choix...][|*] par question."),
)
@click.option("--intro", help=N_("Texte d'introduction lu par le conseiller."))
@click.option("--paused", is_flag=True, help=N_("Créer la campagne suspendue."))
@_segment_options
@as_option
@db_option
@click.pass_obj
def create_cmd(
    app: AppContext,
    name: str,
    lockdown: str | None,
    chamber: str | None,
    description: str | None,
    max_attempts: int,
    max_wrap_up: int,
    retry_delays: str,
    days: str,
    hours: str,
    questions: tuple[str, ...],
    script_file: str | None,
    intro: str | None,
    paused: bool,
    segment: service.Segment | None,
    as_login: str | None,
) -> None:
    script = service.read_script(script_file) if script_file else ()
    script += tuple(service.parse_question(q) for q in questions)
    spec = service.CampaignSpec(
        name=name,
        lockdown=lockdown,
        chamber=chamber,
        description=description,
        max_attempts=max_attempts,
        max_wrap_up_seconds=max_wrap_up,
        retry_delays=service.parse_delays(retry_delays),
        window_days=days,
        window_hours=hours,
        script=script,
        script_intro=intro,
        status="paused" if paused else "active",
    )
    db, person = acting_supervisor(app, as_login)
    if segment is None:
        info = service.create_campaign(db, person, spec)
        echo(_("campagne créée : {line}").format(line=_line(info)))
        return
    info, result = service.create_and_fill(db, person, spec, segment)
    echo(_("campagne créée : {line}").format(line=_line(info)))
    _report_fill(result)


def _report_fill(result: service.FillResult) -> None:
    echo(
        _(
            "{added} entreprises ajoutées à la file de {name} ({already} y étaient déjà, "
            "{dnc} en opposition écartées)"
        ).format(
            added=result.added,
            name=result.campaign,
            already=result.already,
            dnc=result.skipped_do_not_call,
        )
    )


@campaign_group.command(
    "fill", help=N_("Ajoute à la file les entreprises d'un segment (sauf opposition).")
)
@click.argument("name")
@_segment_options
@as_option
@db_option
@click.pass_obj
def fill_cmd(
    app: AppContext, name: str, segment: service.Segment | None, as_login: str | None
) -> None:
    db, person = acting_supervisor(app, as_login)
    _report_fill(service.fill(db, person, name, segment or service.Segment()))


@campaign_group.command("list", help=N_("Liste les campagnes visibles."))
@as_option
@db_option
@click.pass_obj
def list_cmd(app: AppContext, as_login: str | None) -> None:
    db, person = acting_supervisor(app, as_login)
    infos = service.list_campaigns(db, person)
    if not infos:
        echo(_("aucune campagne"))
    for info in infos:
        echo(_line(info))


def _status_command(action: str, help_text: str) -> None:
    @campaign_group.command(action, help=help_text)
    @click.argument("name")
    @as_option
    @db_option
    @click.pass_obj
    def cmd(app: AppContext, name: str, as_login: str | None) -> None:
        db, person = acting_supervisor(app, as_login)
        echo(_line(service.change_status(db, person, name, action)))


@campaign_group.command(
    "close",
    help=N_(
        "Clôt une campagne (définitif : ses entreprises encore en file ne seront pas appelées)."
    ),
)
@click.argument("name")
@destructive_options
@as_option
@db_option
@click.pass_obj
def close_cmd(app: AppContext, name: str, yes: bool, dry_run: bool, as_login: str | None) -> None:
    db, person = acting_supervisor(app, as_login)
    found = [c for c in service.list_campaigns(db, person) if c.name == name]
    if found and found[0].status != "closed":
        preview = _(
            "campagne à clore (définitif) : {line} ; les {open} entreprises encore à appeler "
            "ne le seront pas"
        ).format(line=_line(found[0]), open=format_number(found[0].open_tasks))
        if not go_ahead(preview, yes=yes, dry_run=dry_run):
            return
    echo(_line(service.change_status(db, person, name, "close")))


@campaign_group.command(
    "set",
    help=N_(
        "Change les réglages d'une campagne de votre périmètre : durée maximale de clôture, "
        "délai avant l'appel de vérification, tentatives au plus."
    ),
)
@click.argument("name")
@click.option(
    "--max-wrap-up",
    "max_wrap_up",
    type=int,
    metavar="SECONDES",
    help=N_("Durée maximale de clôture, en secondes."),
)
@click.option(
    "--verify-after-days",
    type=int,
    metavar="JOURS",
    help=N_(
        "Jours après l'acceptation d'une orientation clic et collecte ou plateforme avant "
        "l'appel de vérification."
    ),
)
@click.option("--max-attempts", type=int, help=N_("Tentatives au plus par entreprise."))
@as_option
@db_option
@click.pass_obj
def set_cmd(
    app: AppContext,
    name: str,
    max_wrap_up: int | None,
    verify_after_days: int | None,
    max_attempts: int | None,
    as_login: str | None,
) -> None:
    db, person = acting_supervisor(app, as_login)
    c = service.change_settings(
        db,
        person,
        name,
        max_wrap_up_seconds=max_wrap_up,
        verify_after_days=verify_after_days,
        max_attempts=max_attempts,
    )
    echo(
        _(
            "{name} : clôture {wrap} s au plus, vérification {days} jours après l'acceptation, "
            "{attempts} tentatives au plus"
        ).format(
            name=c.name,
            wrap=c.max_wrap_up_seconds,
            days=c.verify_after_days,
            attempts=c.max_attempts,
        )
    )


_status_command("pause", N_("Suspend une campagne (plus aucun appel proposé)."))
_status_command("resume", N_("Reprend une campagne suspendue."))
