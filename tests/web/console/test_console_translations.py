"""The message catalogues: the committed .mo is the compiled .po (Flask-Babel reads only .mo), every message
of the templates and views has a Japanese text, and placeholders survive translation."""

from __future__ import annotations

import re

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from taxii_server.web.console.i18n import TRANSLATIONS

PO = TRANSLATIONS / "ja" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "ja" / "LC_MESSAGES" / "messages.mo"
CONSOLE = TRANSLATIONS.parent
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def _messages(catalog: object) -> dict[str, str]:
    return {m.id: m.string for m in catalog if m.id}  # type: ignore[attr-defined]


def test_the_compiled_catalogue_matches_its_source() -> None:
    with PO.open("rb") as po, MO.open("rb") as mo:
        assert _messages(read_po(po)) == _messages(read_mo(mo)), "run `make translations`"


def test_every_message_in_the_console_has_a_japanese_text() -> None:
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    wanted = {message for _, _, message, _, _ in extract_from_dir(str(CONSOLE), METHODS, keywords=keywords)
              if isinstance(message, str)}
    with PO.open("rb") as fh:
        translated = {k for k, v in _messages(read_po(fh)).items() if v}
    assert sorted(wanted - translated) == [], "run `make translations` and translate the new messages"


def test_placeholders_survive_translation() -> None:
    with PO.open("rb") as fh:
        for msgid, text in _messages(read_po(fh)).items():
            assert sorted(re.findall(r"%\(\w+\)[sd]", msgid)) == sorted(re.findall(r"%\(\w+\)[sd]", text)), msgid
