"""URLs in mail bodies: from plain text and from HTML (`href`/`src` attributes and visible text).

Extraction only; nothing is fetched. The HTML parser is the standard library's tolerant one, fed text that
has already passed the size limits.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_URL = re.compile(r"(?i)\bhttps?://[^\s<>\"'`{}|\\^\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]+")
_TRAILING = ".,;:!?)]}>'\"、。）」』】"
MAX_URL_LENGTH = 8192


def urls_in_text(text: str) -> list[str]:
    return [u for u in (_clean(m.group(0)) for m in _URL.finditer(text)) if u]


def urls_in_html(html: str) -> tuple[list[str], str]:
    """(URLs from links and text, the visible text)."""
    parser = _LinkParser()
    parser.feed(html)
    parser.close()
    text = "".join(parser.text)
    found = [u for u in (_clean(link) for link in parser.links) if u and _URL.fullmatch(u)]
    return found + urls_in_text(text), text


def _clean(url: str) -> str:
    url = url.strip()
    while url and url[-1] in _TRAILING:
        url = url[:-1]
    return url[:MAX_URL_LENGTH] if len(url) > len("http://") else ""


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("href", "src", "action") and value:
                self.links.append(value)
        if tag in ("br", "p", "div", "tr", "li"):
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)
