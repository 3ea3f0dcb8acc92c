"""`outreach gdpr show|erase|purge`: access requests, erasure and retention (RGPD)."""

from __future__ import annotations

import json
from typing import Any

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.confirm import destructive_options, go_ahead
from outreach.cli.supervision import acting_login, as_option
from outreach.i18n import N_, _, format_number
from outreach.services import gdpr as service


@cli.group(
    "gdpr",
    help=N_(
        "RGPD : ce qui est conservé sur une entreprise (droit d'accès), effacement, "
        "purge des données de prospection de plus de 3 ans. Réservé aux superviseurs."
    ),
)
def gdpr_group() -> None:
    pass


def _text(record: dict[str, Any]) -> str:
    b = record["business"]
    lines = [_("Entreprise (SIRET {siret})").format(siret=b["siret"])]
    lines += [f"  {k}: {'' if v is None else v}" for k, v in b.items()]
    lines.append(_("Tâches : {n}").format(n=len(record["tasks"])))
    for t in record["tasks"]:
        lines.append(
            f"  #{t['id']} campaign={t['campaign_id']} state={t['state']} attempts={t['attempts']}"
        )
    lines.append(_("Appels : {n}").format(n=len(record["calls"])))
    for c in record["calls"]:
        lines.append(
            f"  {c['started_at']} {c['outcome']} agent={c['agent_id']} phone={c['phone'] or ''}"
        )
        if c["notes"]:
            lines.append(f"    notes: {c['notes']}")
        for a in c["answers"]:
            lines.append(f"    {a['question']}: {a['answer'] or ''}")
        for r in c["referrals"]:
            lines.append(f"    -> {r['kind']} {r['partner'] or ''} ({r['status']})")
    lines.append(_("Journal d'audit : {n}").format(n=len(record["audit"])))
    for a in record["audit"]:
        detail = json.dumps(a["detail"], ensure_ascii=False) if a["detail"] else ""
        lines.append(f"  {a['at']} {a['action']} {a['entity']}#{a['entity_id']} {detail}")
    return "\n".join(lines)


@gdpr_group.command("show", help=N_("Tout ce qui est conservé sur une entreprise (droit d'accès)."))
@click.option("--siret", required=True, metavar="SIRET", help=N_("SIRET de l'entreprise."))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help=N_("Texte lisible ou JSON."),
)
@as_option
@db_option
@click.pass_obj
def gdpr_show(app: AppContext, siret: str, fmt: str, as_login: str | None) -> None:
    record = service.business_record(*acting_login(app, as_login), siret)
    if fmt == "json":
        echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        echo(_text(record))


@gdpr_group.command(
    "erase",
    help=N_(
        "Efface les données personnelles d'une entreprise (nom, adresse, téléphones, courriel, "
        "notes, réponses). Les appels restent comptés et l'opposition est conservée."
    ),
)
@click.option("--siret", required=True, metavar="SIRET", help=N_("SIRET de l'entreprise."))
@click.option("--reason", default="", metavar="TEXTE", help=N_("Motif (ex. demande du gérant)."))
@destructive_options
@as_option
@db_option
@click.pass_obj
def gdpr_erase(
    app: AppContext, siret: str, reason: str, yes: bool, dry_run: bool, as_login: str | None
) -> None:
    db, login = acting_login(app, as_login)
    found, name = service.erase_preview(db, login, siret)
    preview = _("effacement des données personnelles de {siret} {name} (définitif)").format(
        siret=found, name=name
    )
    if not go_ahead(preview, yes=yes, dry_run=dry_run):
        return
    done = service.erase_business(db, login, siret, reason)
    echo(
        _(
            "SIRET {siret} effacé : {calls} appels anonymisés, {answers} réponses supprimées, "
            "{tasks} tâches annulées ; opposition : {dnc}"
        ).format(
            siret=done.siret,
            calls=done.calls_anonymised,
            answers=done.answers_removed,
            tasks=done.tasks_cancelled,
            dnc=_("oui") if done.do_not_call else _("non"),
        )
    )


@gdpr_group.command(
    "purge",
    help=N_(
        "Durée de conservation : efface les entreprises dont le dernier contact est plus ancien "
        "que la durée donnée (CNIL : 3 ans pour la prospection). Comptes et oppositions gardés."
    ),
)
@click.option(
    "--older-than", "older_than", required=True, metavar="DURÉE", help=N_("Ex. 3y, 36m, 1095d.")
)
@destructive_options
@as_option
@db_option
@click.pass_obj
def gdpr_purge(
    app: AppContext, older_than: str, yes: bool, dry_run: bool, as_login: str | None
) -> None:
    db, login = acting_login(app, as_login)
    plan = service.purge_preview(db, login, older_than)
    lines = [
        _(
            "purge : {n} entreprises sur {total} n'ont pas été contactées depuis le {cutoff} ; "
            "leurs données personnelles seront effacées (définitif), {kept} oppositions conservées"
        ).format(
            n=format_number(plan.businesses),
            total=format_number(plan.in_scope),
            cutoff=plan.cutoff.strftime("%Y-%m-%d"),
            kept=format_number(plan.oppositions_kept),
        )
    ]
    lines += [f"  {siret} {name}" for siret, name in plan.examples]
    if plan.businesses > len(plan.examples):
        lines.append("  ...")
    if plan.businesses == 0:
        echo(lines[0])
        return
    if not go_ahead("\n".join(lines), yes=yes, dry_run=dry_run):
        return
    done = service.purge(db, login, older_than)
    echo(
        _(
            "purge avant le {cutoff} : {n} entreprises effacées, {calls} appels anonymisés, "
            "{kept} oppositions conservées"
        ).format(
            cutoff=done.cutoff.strftime("%Y-%m-%d"),
            n=format_number(done.businesses),
            calls=format_number(done.calls_anonymised),
            kept=format_number(done.oppositions_kept),
        )
    )
