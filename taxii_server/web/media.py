"""Media types for every surface: reading Accept and Content-Type leniently, as RFC 7231 allows (checklist
B1–B7), with one parser for TAXII and the hub API.

TAXII serves `application/taxii+json;version=2.1`, the same without a version (the latest, §1.6.8.2), and —
a policy choice — `*/*`, `application/*` and `application/json`, which some real clients send. Refused
(406): an empty Accept, other TAXII versions, unrelated types, and anything with q=0. The hub API serves
`application/json` to an Accept that admits it (also through `*/*` or `application/*`) with q > 0.
"""

from __future__ import annotations

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
JSON = "application/json"


def _parse(header: str) -> list[tuple[str, dict[str, str]]]:
    ranges = []
    for item in header.split(","):
        pieces = [p.strip() for p in item.split(";")]
        if not pieces[0]:
            continue
        params: dict[str, str] = {}
        for p in pieces[1:]:
            name, _, value = p.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        ranges.append((pieces[0].lower(), params))
    return ranges


def _q(params: dict[str, str]) -> float:
    try:
        q = float(params.get("q", "1"))
    except ValueError:
        return 0.0
    return q if 0.0 <= q <= 1.0 else 0.0  # also NaN


def accepts_taxii(header: str | None) -> bool:
    """Whether a response of type TAXII may be sent for this Accept header (absent = anything)."""
    if header is None:
        return True
    for media, params in _parse(header):
        if _q(params) <= 0:
            continue
        if media == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
        if media in ("*/*", "application/*", "application/json"):
            return True
    return False


def is_taxii_content(header: str | None) -> bool:
    """Whether a request body's Content-Type is TAXII 2.1 (extra parameters such as charset tolerated)."""
    if not header:
        return False
    parsed = _parse(header)
    if len(parsed) != 1:
        return False
    media, params = parsed[0]
    charset = params.get("charset", "utf-8").lower()
    return media == "application/taxii+json" and params.get("version", "2.1") == "2.1" and charset in ("utf-8", "utf8")


def accepts_json(header: str | None) -> bool:
    """Whether a response of type application/json may be sent for this Accept header (absent = anything).
    The most specific range that matches decides, so `application/json;q=0, */*` refuses JSON."""
    if header is None:
        return True
    best: tuple[int, float] | None = None
    for media, params in _parse(header):
        specificity = {JSON: 3, "application/*": 2, "*/*": 1}.get(media)
        if specificity is not None and (best is None or specificity > best[0]):
            best = (specificity, _q(params))
    return best is not None and best[1] > 0


def media_type(header: str | None) -> str:
    """The bare media type of a Content-Type header, lower-cased ("" when absent or unreadable)."""
    parsed = _parse(header or "")
    return parsed[0][0] if len(parsed) == 1 else ""


def is_json_content(header: str | None) -> bool:
    """Whether a request body's Content-Type is JSON in UTF-8 (application/json; a charset other than UTF-8 is
    not)."""
    parsed = _parse(header or "")
    if len(parsed) != 1:
        return False
    media, params = parsed[0]
    return media == JSON and params.get("charset", "utf-8").lower() in ("utf-8", "utf8")
