"""Plurals, help texts shown in the language of the moment, and catalogue coverage."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from outreach.cli.base import LAZY_COMMANDS, cli
from outreach.i18n import _catalogue, _deferred, ngettext, read_po, set_language

ROOT = Path(__file__).resolve().parents[2]

PO = """
msgid ""
msgstr ""
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "Bonjour"
msgstr "Hello"

msgid "{n} appel"
msgid_plural "{n} appels"
msgstr[0] "{n} call"
msgstr[1] "{n} calls"
"""


def test_read_po_keeps_plain_and_plural_entries() -> None:
    catalogue = read_po(PO)
    assert catalogue.messages == {"Bonjour": "Hello"}
    assert catalogue.plurals == {"{n} appel": ("{n} call", "{n} calls")}
    assert [catalogue.plural_index(n) for n in (0, 1, 2)] == [1, 0, 1]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", ["0 entreprise ajoutée", "1 entreprise ajoutée", "2 entreprises ajoutées"]),
        ("en", ["0 businesses queued", "1 business queued", "2 businesses queued"]),
    ],
)
def test_ngettext_picks_the_form_of_each_language(lang: str, expected: list[str]) -> None:
    set_language(lang)
    got = [
        ngettext(
            "{n} entreprise ajoutée à la file de {campaign}",
            "{n} entreprises ajoutées à la file de {campaign}",
            n,
        ).format(n=n, campaign="X")
        for n in (0, 1, 2)
    ]
    assert [g.removesuffix(" à la file de X").removesuffix(" in X") for g in got] == expected


def test_root_help_is_english_with_lang_en() -> None:
    result = CliRunner().invoke(cli, ["--lang", "en", "--help"])
    assert result.exit_code == 0
    assert "Log in directly as this agent." in result.output
    assert "Show this message and exit." in result.output
    assert "Without a command, opens the advisers' app." in result.output
    assert "Se connecter" not in result.output


def test_root_help_is_french_by_default() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "Se connecter directement comme cet agent." in result.output
    assert "Affiche cette aide et quitte." in result.output


def _all_commands() -> list[tuple[str, click.Command]]:
    for modules in LAZY_COMMANDS.values():
        for module in modules:
            importlib.import_module(module)
    found: list[tuple[str, click.Command]] = []

    def walk(prefix: str, command: click.Command) -> None:
        found.append((prefix, command))
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(f"{prefix} {name}", sub)

    walk("outreach", cli)
    return found


def _translated(text: str) -> bool:
    english = _catalogue("en").messages
    return text in english or _deferred.get(text, ("", {}))[0] in english


def test_every_help_text_has_an_english_translation() -> None:
    """What `--help` shows in English: every command's and option's text is translated."""
    set_language("fr")
    untranslated = []
    for path, command in _all_commands():
        ctx = click.Context(command, info_name=path)
        texts = [command.help] + [getattr(p, "help", None) for p in command.get_params(ctx)]
        untranslated += [f"{path}: {t!r}" for t in texts if t and not _translated(t)]
    assert untranslated == [], "\n".join(untranslated)


def test_every_plural_message_is_in_the_catalogue() -> None:
    plurals = _catalogue("en").plurals
    missing = []
    for file in (ROOT / "outreach").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "ngettext"
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value not in plurals
            ):
                missing.append(f"{file.name}: {node.args[0].value!r}")
    assert missing == []
