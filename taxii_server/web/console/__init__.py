"""The web console at /console/: server-rendered pages for members and hub analysts.

It goes through the same services and access rules as the TAXII and hub APIs and never reads storage. Pages
are Jinja2 templates with texts from message catalogues (Flask-Babel; Japanese by default, English by
choice); no script is needed to use any page.
"""

from __future__ import annotations

from flask import Flask

from . import analyst, connect, corrections, feeds, i18n, member, signin  # noqa: F401  (the view modules register their routes)
from .blueprint import bp
from .guard import csrf_token
from .presenters import visible


def init_app(app: Flask) -> None:
    i18n.init_app(app)
    app.register_blueprint(bp)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.filters["shown"] = visible
