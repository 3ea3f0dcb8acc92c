"""Plurals, help texts shown in the language of the moment, and catalogue coverage."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from outreach.cli.base import LAZY_COMMANDS, cli
from outreach.i18n import _deferred, _translations, compile_catalogue, ngettext, set_language
from tests.catalogues import entries

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


def test_catalogues_are_compiled_with_gettext_plurals(tmp_path: Path) -> None:
    """A .po compiled by Babel (the build hook's function) and read by gettext: plain and plural
    entries, the catalogue's own plural rule."""
    import gettext
    import io

    po = tmp_path / "x.po"
    po.write_text(PO, encoding="utf-8")
    compiled = gettext.GNUTranslations(io.BytesIO(compile_catalogue(po)))
    assert compiled.gettext("Bonjour") == "Hello"
    assert [compiled.ngettext("{n} appel", "{n} appels", n) for n in (0, 1, 2)] == [
        "{n} calls",
        "{n} call",
        "{n} calls",
    ]


def test_the_installed_catalogue_is_compiled_and_fresh() -> None:
    """`pip install -e .` left a .mo beside each .po, made from that very .po."""
    import gettext
    import hashlib

    for po in sorted((ROOT / "outreach" / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{mo} missing: the build hook (hatch_build.py) did not run"
        with mo.open("rb") as handle:
            stamp = gettext.GNUTranslations(handle).pgettext("outreach-build", "source-sha256")
        assert stamp == hashlib.sha256(po.read_bytes()).hexdigest(), (
            f"{po} edited since the install: run the README's install command again"
        )


def test_a_catalogue_edited_since_the_install_is_not_shown_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The .mo of an older .po is not used: the .po is compiled again in memory."""
    import outreach.i18n as i18n

    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "outreach.po"
    po.write_text(PO, encoding="utf-8")
    (folder / "outreach.mo").write_bytes(compile_catalogue(po))
    po.write_text(PO.replace('"Hello"', '"Hi"'), encoding="utf-8")
    monkeypatch.setattr(i18n, "_LOCALE_DIR", tmp_path)
    _translations.cache_clear()
    try:
        assert _translations("outreach", "en").gettext("Bonjour") == "Hi"
    finally:
        _translations.cache_clear()


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


@pytest.mark.parametrize(
    "args",
    [
        ["rollup", "--help", "--lang", "en"],  # --help read first: the language must win
        ["rollup", "--lang=en", "--help"],
        ["--lang", "en", "rollup", "--help"],
    ],
)
def test_help_is_english_wherever_lang_is_typed(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ") and " rollup [OPTIONS]" in result.output
    assert "--since YYYY-MM-DD" in result.output and "--lockdown NAME" in result.output
    assert "Utilisation" not in result.output and "Seulement" not in result.output
    french = CliRunner().invoke(cli, ["--lang", "fr", "rollup", "--help"]).output
    assert "--since AAAA-MM-JJ" in french  # the command's own metavar, restored after display


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
    english = entries("en").messages
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
    plurals = entries("en").plurals
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


# click's own usage errors, as a person mistyping a command sees them
CLICK_ERRORS = [
    (
        ["tui", "--bogus"],
        "Essayez « outreach tui --help » pour afficher l'aide.",
        "Erreur : Option inconnue : '--bogus'.",
        "Try 'outreach tui --help' for help.",
        "Error: No such option '--bogus'.",
    ),
    (
        ["import", "businesses"],
        "Utilisation : outreach import businesses [OPTIONS] FILE",
        "Erreur : Argument manquant 'FILE'.",
        "Usage: outreach import businesses [OPTIONS] FILE",
        "Error: Missing argument 'FILE'.",
    ),
    (
        ["nope"],
        "Essayez « outreach --help » pour afficher l'aide.",
        "Erreur : Commande inconnue : 'nope'.",
        "Try 'outreach --help' for help.",
        "Error: No such command 'nope'.",
    ),
    (
        ["export", "calls", "--format", "zz"],
        "Essayez « outreach export --help » pour afficher l'aide.",
        "Erreur : Valeur invalide pour '--format' : 'zz' n'est pas l'une des valeurs "
        "'csv', 'xlsx', 'jsonl'.",
        "Try 'outreach export --help' for help.",
        "Error: Invalid value for '--format': 'zz' is not one of 'csv', 'xlsx', 'jsonl'.",
    ),
    (
        ["tui", "--agnt", "x"],
        "Essayez « outreach tui --help » pour afficher l'aide.",
        "(Vouliez-vous dire l'une de : '--agent', '--lang' ?)",
        "Try 'outreach tui --help' for help.",
        "(Did you mean one of: '--agent', '--lang'?)",
    ),
]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize(("args", "fr_hint", "fr_error", "en_hint", "en_error"), CLICK_ERRORS)
def test_click_errors_in_the_users_language(
    lang: str, args: list[str], fr_hint: str, fr_error: str, en_hint: str, en_error: str
) -> None:
    set_language(lang)
    result = CliRunner().invoke(cli, args, prog_name="outreach")
    assert result.exit_code == 2
    hint, error = (fr_hint, fr_error) if lang == "fr" else (en_hint, en_error)
    assert hint in result.output and error in result.output, result.output
    if lang == "fr":
        assert "Try '" not in result.output and "Error:" not in result.output


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", "Essayez « outreach tui --help » pour afficher l'aide."),
        ("en", "Try 'outreach tui --help' for help."),
    ],
)
def test_click_errors_of_the_real_command(lang: str, expected: str) -> None:
    """The installed command (a process of its own), OUTREACH_LANG as a person sets it."""
    import os
    import subprocess
    import sys

    env = os.environ | {"OUTREACH_LANG": lang}
    done = subprocess.run(
        [sys.executable, "-m", "outreach", "tui", "--bogus"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2 and expected in done.stderr, done.stderr


def test_every_message_click_shows_a_person_is_in_the_french_catalogue() -> None:
    """A click upgrade that adds or changes a usage message fails here, not in front of a user."""
    import click as click_package

    from outreach.cli.click_i18n import MODULES

    catalogue = entries("fr", "click")
    known = set(catalogue.messages) | set(catalogue.plurals)
    # messages for programmers (a command declared wrongly), never for the person typing
    for_programmers = {
        "Could not determine name for option with declarations {decls!r}",
        "Arguments take exactly one parameter declaration, got {length}: {decls}.",
        "Name '{name}' defined twice",
        "Boolean option {decl!r} cannot use the same flag for true/false.",
        "Unknown color {colour!r}",
        "Unknown standard stream '{name}'",
        "Choice({choices})",
        "%(prog)s, version %(version)s",
        "Options",
        "Commands",
        "Positional arguments",
        "d",
        "DeprecationWarning: The command {name!r} is deprecated.{extra_message}",
        "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}",
        "No options defined but a name was passed ({name}). Did you mean to declare an "
        "argument instead? Did you mean to pass '--{name}'?",
        "Couldn't detect Bash version, shell completion is not supported.",
        "Shell completion is not supported for Bash versions older than 4.4.",
    }
    missing = []
    root = Path(click_package.__file__).parent
    for name in MODULES:
        source = root / (name.removeprefix("click.") + ".py")
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "ngettext")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                message = node.args[0].value
                if message not in known and message not in for_programmers:
                    missing.append(f"{source.name}: {message!r}")
    assert missing == []
