"""The console's languages: Japanese (the default) and English, from gettext catalogues through Flask-Babel.

Message ids are the English texts. The Japanese catalogue's source is translations/ja/LC_MESSAGES/messages.po;
its compiled messages.mo is committed beside it because Flask-Babel loads only compiled catalogues and the
package is installed without a build step (`make translations` re-extracts, updates and compiles them; a
test checks the .mo matches the .po). Each user's choice is kept in their session, or before sign-in in a
cookie.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g
from flask_babel import Babel

from ...sessions import DEFAULT_LANGUAGE

TRANSLATIONS = Path(__file__).parent / "translations"


def _locale() -> str:
    lang: str = g.get("console_lang", DEFAULT_LANGUAGE)
    return lang


def init_app(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=_locale)
