"""Links in mail bodies, with what each one is: from plain text (bare URLs, Markdown links) and from HTML
(`href`, `action`, `src`), with the visible text and the part of the mail it sits in.

Extraction only, nothing is fetched. Each link says whether it is context rather than a candidate indicator
(an image or tracking pixel, an unsubscribe / opt-out / privacy footer link) and which host its visible text
shows when that differs from its target (a strong phishing signal). Values are raw: `converters.urls`
normalises them. The HTML parser is the standard library's tolerant one, fed text that already passed the
size limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from converters import urls

# In text: scheme URLs up to a space, a quote or a CJK character; Markdown links separately.
_URL = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"'`{}|\\^\[\]\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]+")
_MARKDOWN = re.compile(r"\[([^\[\]\n]{0,500})\]\(\s*<?((?:https?|ftp)://[^)\s>]+)>?\s*\)", re.IGNORECASE)
_SHOWN_HOST = re.compile(r"(?i)(?:https?://)?((?:[a-z0-9\u00a1-\uffff-]+\.)+[a-z\u00a1-\uffff]{2,63})(?![a-z0-9.-])")
_FOOTER = re.compile(
    r"(?i)unsubscri|opt[\s-]?out|optout|manage (?:your )?(?:email )?(?:preferences|subscription)"
    r"|email preferences|privacy|terms (?:of|and) |don'?t want to receive|no longer wish|stop receiving"
    r"|配信停止|配信解除|登録解除|購読解除|メール配信の?(?:停止|解除|設定)|プライバシー|個人情報保護"
    r"|désinscri|desinscri|abmelden|darse de baja|cancelar (?:a )?inscri"
)
_FOOTER_PATH = re.compile(r"(?i)unsubscri|opt-?out|/privacy|/preferences|/email-?prefs")
_LINK_ATTRIBUTES = {"a": "href", "area": "href", "form": "action"}
_IMAGE_ATTRIBUTES = {"img": "src", "input": "src", "image": "href"}
_BLOCK = ("br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "td")


@dataclass(frozen=True)
class Link:
    url: str  # as found (decoded attribute or text), not yet normalised
    context: str | None = None  # why it is context, not a candidate indicator: image, tracking pixel, footer…
    shown_host: str | None = None  # the host its visible text shows, when that is not the target's
    offset: int = 0  # where in the part's (visible) text the link sits
    source: str = "text"  # text, html or header


def links_in_text(text: str) -> list[Link]:
    """Bare URLs and Markdown links `[text](url)` in plain text."""
    found: list[Link] = []
    spans: list[tuple[int, int]] = []
    for match in _MARKDOWN.finditer(text):
        spans.append(match.span())
        before = text[max(0, match.start() - 120) : match.start()]
        found.append(_classified(match.group(2), match.group(1), before, match.start()))
    rest = text
    for start, end in reversed(spans):
        rest = rest[:start] + " " * (end - start) + rest[end:]
    for match in _URL.finditer(rest):
        before = rest[max(0, match.start() - 120) : match.start()]
        found.append(_classified(match.group(0), "", before, match.start()))
    found.sort(key=lambda link: link.offset)
    return found


def links_in_html(html: str) -> tuple[list[Link], str, frozenset[str]]:
    """(links, the visible text, the Content-IDs referenced by `cid:` URLs)."""
    parser = _LinkParser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # the tolerant parser still has corner cases on broken markup
        pass
    text = "".join(parser.text)
    in_text = [link for link in links_in_text(text) if link.url not in parser.hrefs]
    return parser.links + in_text, text, frozenset(parser.content_ids)


def _classified(url: str, shown: str, before: str, offset: int, source: str = "text") -> Link:
    context = None
    if _FOOTER.search(shown) or _FOOTER.search(before[-80:]) or _FOOTER_PATH.search(url):
        context = "unsubscribe or privacy footer"
    return Link(url, context, _shown_host(shown, url), offset, source)


def _shown_host(shown: str, target: str) -> str | None:
    """The host the visible text displays, when it is a different site than the link's target."""
    match = _SHOWN_HOST.search(shown.strip())
    if not match:
        return None
    normalised = urls.normalise(target)
    shown_url = urls.normalise("http://" + match.group(1))
    if not isinstance(normalised, urls.Url) or not isinstance(shown_url, urls.Url):
        return None
    a, b = _site(normalised.host), _site(shown_url.host)
    if a == b or a.endswith("." + b) or b.endswith("." + a):
        return None
    return shown_url.display.split("//", 1)[-1].rstrip("/")


def _site(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.hrefs: set[str] = set()
        self.text: list[str] = []
        self.content_ids: set[str] = set()
        self._skip = 0
        self._anchor: tuple[str, int] | None = None  # (href, index in text where the anchor's text starts)
        self._length = 0  # characters of visible text so far

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        if tag in _BLOCK:
            self.text.append("\n")
            self._length += 1
        for _, value in attrs:
            if value and value.strip().lower().startswith("cid:"):
                self.content_ids.add(value.strip()[4:].strip("<>").lower())
        image = _IMAGE_ATTRIBUTES.get(tag)
        if image and values.get(image):
            pixel = _is_pixel(values)
            self._add(values[image], "tracking pixel" if pixel else "image")
        if values.get("background"):
            self._add(values["background"], "image")
        if tag == "link" and values.get("href"):
            self._add(values["href"], "stylesheet or icon")
        attribute = _LINK_ATTRIBUTES.get(tag)
        if attribute and values.get(attribute):
            if tag == "a":
                self._close_anchor()
                self._anchor = (values[attribute], len(self.text))
            else:
                self._add(values[attribute], None)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title") and self._skip:
            self._skip -= 1
        if tag == "a":
            self._close_anchor()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)
            self._length += len(data)

    def close(self) -> None:
        super().close()
        self._close_anchor()

    def _close_anchor(self) -> None:
        if self._anchor is None:
            return
        href, start = self._anchor
        self._anchor = None
        shown = "".join(self.text[start:])[:500]
        before = "".join(self.text[max(0, start - 20) : start])[-120:]
        link = _classified(href, shown, before, 0)
        self._add(link.url, link.context, link.shown_host)

    def _add(self, raw: str, context: str | None, shown_host: str | None = None) -> None:
        value = raw.strip()
        lowered = value.lower()
        if not lowered.startswith(("http://", "https://", "ftp://", "//")):
            return  # mailto:, tel:, cid:, javascript:, anchors and relative links are not web links
        self.hrefs.add(value)
        self.links.append(Link(value, context, shown_host, self._length, "html"))


def _is_pixel(values: dict[str, str]) -> bool:
    def small(name: str) -> bool:
        digits = re.match(r"\s*(\d+)", values.get(name, ""))
        return bool(digits) and int(digits.group(1)) <= 2 if digits else False

    style = values.get("style", "").replace(" ", "").lower()
    return (small("width") and small("height")) or "display:none" in style or "visibility:hidden" in style
