"""MISP's own STIX 2.1 importer (misp-stix, the library MISP runs) as a consumer of what the hub publishes.

`import_errors(bundle)` imports a bundle as MISP would and returns every error it reports, except that an
object type MISP cannot represent is skipped (listed in the README): MISP has no object for STIX
`infrastructure`, so misp-stix reports it as unknown and goes on. Anything else (a reference it cannot
follow, an object it fails to convert) is an error.

`PUBLISHED` is the publication listener (hub/publishing.py `PublicationListener`) that the test helpers give
every hub they build (`create_app(..., on_published=PUBLISHED)`, the CLI's `cli_context()`); tests/conftest.py
imports what it heard when each test ends.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taxii_server.cli import CliContext
from taxii_server.model import Publication

UNREPRESENTABLE = frozenset({"infrastructure"})
_SKIPPED_TYPE = re.compile(r"^(Unable to load|Unknown) STIX object type: (?P<type>[a-z0-9-]+)$")


class PublicationLog:
    """The bundles of the publications the hubs of a test wrote, in order."""

    def __init__(self) -> None:
        self.bundles: list[bytes] = []

    def __call__(self, publication: Publication, serialized: bytes) -> None:
        self.bundles.append(serialized)

    def drain(self) -> list[bytes]:
        drained, self.bundles = self.bundles, []
        return drained


PUBLISHED = PublicationLog()


def cli_context(config: Path | None = None) -> CliContext:
    """The `obj` for click's CliRunner: the command's own context, with PUBLISHED listening."""
    return CliContext(config, on_published=PUBLISHED)


def import_errors(bundle: Mapping[str, Any]) -> list[str]:
    with warnings.catch_warnings():  # the importer's own dependencies warn about their internals
        warnings.simplefilter("ignore")
        import stix2
        from misp_stix_converter import ExternalSTIX2toMISPParser

        parser = ExternalSTIX2toMISPParser()
        parser.load_stix_bundle(stix2.parse(dict(bundle), allow_custom=True))
        parser.parse_stix_bundle()
    errors = [str(e) for found in parser.errors.values() for e in found]
    return [e for e in errors if not ((m := _SKIPPED_TYPE.match(e)) and m.group("type") in UNREPRESENTABLE)]


def misp_event(bundle: Mapping[str, Any]) -> Any:
    """The MISP event misp-stix makes of `bundle`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import stix2
        from misp_stix_converter import ExternalSTIX2toMISPParser

        parser = ExternalSTIX2toMISPParser()
        parser.load_stix_bundle(stix2.parse(dict(bundle), allow_custom=True))
        parser.parse_stix_bundle()
    return parser.misp_event
