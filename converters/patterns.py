"""STIX 2.1 patterns, in one place: building them from values, checking them, and reading values out of them.

Building: the exact pattern forms of stix-mapping §1.4.5. Values only ever enter a pattern through
`literal()`, which escapes `\\` and `'` (the only two escapes the STIX grammar has), so no value can change a
pattern's structure; hypothesis checks that any string round-trips through stix2-patterns.

Checking (`pattern_error`): stix2-patterns' ANTLR parser costs a quarter to a whole millisecond per pattern,
more than everything else Add Objects does with an indicator. Almost every real indicator is one observation
of `=`/`!=` comparisons on a canonical object path, joined by OR (or AND on the same object type):

    [file:hashes.'SHA-256' = '4bac…' OR file:hashes.MD5 = 'b4e0…']
    [domain-name:value = 'c2.example']

A fast recogniser accepts only a strict subset of what the parser accepts (exact canonical spacing, string
literals without control characters or surrogates, hash values that are plain hex of the right length), so
whatever it accepts the parser accepts too; anything else — and every rejection — goes to the parser, which
also writes the error message. Property tests hold the subset claim on generated and real patterns. The
builders check each pattern *shape* (string literals blanked) once: the escaping makes literal contents
irrelevant to the parse, and the values the grammar constrains (hash lengths, IP syntax) are checked as built.

Reading (`inspect`): values are taken out of a pattern only through stix2-patterns' inspector (or, for the
canonical form, the recogniser above with the inspector's result, which a property test compares), so a value
with an escaped quote or backslash is read whole, and the caller sees how comparisons and observations are
joined (a compound pattern is never flattened into its values).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import threading
from typing import Any, NamedTuple

from stix2patterns.inspector import INDEX_STAR
from stix2patterns.v21.inspector import InspectionListener
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import run_validator

from converters.errors import PatternError

MAX_PATTERN_LENGTH = 65536

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Grammar keywords: as a bare path step they would parse as operators or literals.
_KEYWORDS = frozenset({
    "and", "or", "not", "followedby", "like", "matches", "issubset", "issuperset", "last", "in", "start", "stop",
    "seconds", "true", "false", "within", "repeats", "times", "exists",
})
# the same words as the lexer reads them (case-sensitive) in the canonical form
_RESERVED = frozenset({
    "AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET", "EXISTS", "LAST", "IN", "START",
    "STOP", "SECONDS", "true", "false", "WITHIN", "REPEATS", "TIMES",
})
_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_HEX = {"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128}
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]+\Z")

# the canonical comparison form the fast path reads
_TYPE = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED_KEY = r"'[A-Za-z0-9_-]+'"
_PATH = rf"{_IDENT}(?:\.(?:{_IDENT}|{_QUOTED_KEY})|\[(?:\*|0|[1-9][0-9]{{0,8}})\])*"
_STEP = re.compile(rf"(?:^|\.)(?:({_IDENT})|'([A-Za-z0-9_-]+)')|\[(\*|[0-9]+)\]")
# a string literal: anything but quote and backslash, or the two escapes the grammar defines (possessive: one
# way to match, no backtracking)
_STRING = r"'(?:[^'\\\x00-\x1f\x7f\ud800-\udfff]++|\\['\\])*+'"
_COMPARISON = re.compile(rf"({_TYPE}):({_PATH}) (=|!=) ({_STRING})")
_JOIN = re.compile(r" (OR|AND) ")
_SEPARATORS = re.compile(r"[.\[]")
_HASH_LENGTHS = {"MD5": 32, "SHA-1": 40, "SHA1": 40, "SHA-256": 64, "SHA256": 64, "SHA-512": 128, "SHA512": 128}
_HEX_RUN = re.compile(r"[0-9a-fA-F]+")
# the operand of MATCHES: a string literal with the grammar's two escapes
_MATCHES = re.compile(r"\bMATCHES\s+'((?:[^'\\]|\\.)*)'")

_checked_shapes: set[str] = set()
_lock = threading.Lock()


def literal(value: str) -> str:
    """A STIX pattern string literal for `value`."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def unescape_literal(text: str) -> str:
    """The value of a quoted STIX string literal (inverse of `literal`)."""
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        raise ValueError(f"not a string literal: {text!r}")
    inner = text[1:-1]
    return _ESCAPE.sub(r"\1", inner) if "\\" in inner else inner


def key(name: str) -> str:
    """A property-path step: bare when it is an identifier, quoted otherwise (`hashes.'SHA-256'`)."""
    return name if _IDENTIFIER.match(name) and name.lower() not in _KEYWORDS else literal(name)


def equals(path: str, value: str) -> str:
    return f"{path} = {literal(value)}"


def observation(*comparisons: str, joiner: str = "OR") -> str:
    return "[" + f" {joiner} ".join(comparisons) + "]"


# ------------------------------------------------------------------------------------------------ builders


def sender(address: str) -> str:
    return _checked(observation(equals("email-message:from_ref.value", address)))


def email_address(address: str) -> str:
    """Any address object (a Reply-To candidate), not only the From of a message."""
    return _checked(observation(equals("email-addr:value", address)))


def file_hashes(hashes: dict[str, str]) -> str:
    """`[file:hashes.'SHA-256' = … OR file:hashes.MD5 = … OR file:hashes.'SHA-1' = …]` (SHA-256 first)."""
    ordered = [name for name in ("SHA-256", "MD5", "SHA-1", "SHA-512") if name in hashes]
    if not ordered:
        raise PatternError("pattern", "file:hashes", "no hash to build a pattern from")
    for name in ordered:
        _check_hash(name, hashes[name])
    return _checked(observation(*(equals(f"file:hashes.{key(name)}", hashes[name]) for name in ordered)))


def domain(value: str) -> str:
    return _checked(observation(equals("domain-name:value", value)))


def url(value: str) -> str:
    return _checked(observation(equals("url:value", value)))


def ipv4(value: str) -> str:
    _check_ip(value, 4)
    return _checked(observation(equals("ipv4-addr:value", value)))


def ipv6(value: str) -> str:
    _check_ip(value, 6)
    return _checked(observation(equals("ipv6-addr:value", value)))


def conversation_sequence(address: str, within_seconds: int) -> str:
    """Attachment-free mail followed by mail with an attachment from the same sender (stix-mapping §1.4.5)."""
    first = observation(
        equals("email-message:from_ref.value", address), "email-message:is_multipart = false", joiner="AND"
    )
    second = observation(
        equals("email-message:from_ref.value", address),
        "email-message:body_multipart[*].content_disposition LIKE 'attachment%'",
        joiner="AND",
    )
    return _checked(f"{first} FOLLOWEDBY {second} WITHIN {int(within_seconds)} SECONDS")


def recon_burst(address: str, count: int, within_seconds: int) -> str:
    """The same sender's reconnaissance mail, `count` copies within a short window."""
    base = observation(equals("email-message:from_ref.value", address))
    return _checked(f"{base} REPEATS {int(count)} TIMES WITHIN {int(within_seconds)} SECONDS")


# ---------------------------------------------------------------------------------------------- validation


def pattern_error(pattern: str, spec_version: str = "2.1") -> str | None:
    """The first problem in a STIX pattern, or None when it is valid. Never raises."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    if spec_version == "2.1" and _fast_accepts(pattern):
        return None
    return _parser_verdict(pattern, spec_version)


@functools.lru_cache(maxsize=65536)
def _parser_verdict(pattern: str, spec_version: str) -> str | None:
    return full_parser_error(pattern, spec_version) or _regex_error(pattern)


def full_parser_error(pattern: str, spec_version: str = "2.1") -> str | None:
    """stix2-patterns' verdict, with its crashes on hostile input turned into a verdict too."""
    try:
        errors = run_validator(pattern, stix_version="2.1" if spec_version == "2.1" else "2.0")
    except Exception as exc:  # noqa: BLE001 - the parser can crash on hostile input; that is a bad pattern
        return f"the pattern could not be parsed ({type(exc).__name__})"
    if errors:
        return str(errors[0]).removeprefix("FAIL: ")
    return None


def _regex_error(pattern: str) -> str | None:
    """MATCHES takes a regular expression, which stix2-patterns does not check. It is compiled, never run
    (spec/security.md §2.2: no user regex is evaluated by a backtracking engine here)."""
    for m in _MATCHES.finditer(pattern):
        regex = unescape_literal(f"'{m.group(1)}'")
        try:
            re.compile(regex)
        except (re.error, RecursionError, OverflowError) as exc:
            return f"MATCHES: {regex[:80]!r} is not a valid regular expression ({exc})"
    return None


def _checked(pattern: str) -> str:
    """A pattern this module built, validated once per shape (every string literal blanked)."""
    shape = _LITERAL.sub("''", pattern)
    if shape in _checked_shapes:
        return pattern
    error = pattern_error(pattern)
    if error:
        raise PatternError("pattern", pattern[:200], error)
    with _lock:
        _checked_shapes.add(shape)
    return pattern


def _fast_accepts(pattern: str) -> bool:
    """Whether the pattern is in the canonical comparison form and plainly valid (no parser needed)."""
    found = _canonical(pattern)
    if found is None:
        return False
    comparisons, joins = found
    for _, path, _, literal_text in comparisons:
        if not _plain_hash(path, literal_text):
            return False
    return not ("AND" in joins and len({otype for otype, _, _, _ in comparisons}) > 1)


def _canonical(pattern: str) -> tuple[list[tuple[str, str, str, str]], set[str]] | None:
    """(type, path, operator, literal) of each comparison and the joins, when the pattern is one observation
    of `=`/`!=` comparisons in canonical spacing with no reserved word as a name; else None."""
    if not (pattern.startswith("[") and pattern.endswith("]")):
        return None
    body = pattern[1:-1]
    position, comparisons, joins = 0, [], set[str]()
    while True:
        m = _COMPARISON.match(body, position)
        if m is None:
            return None
        otype, path, operator, literal_text = m.groups()
        if otype in _RESERVED or any(p in _RESERVED for p in _SEPARATORS.split(path)):
            return None
        comparisons.append((otype, path, operator, literal_text))
        position = m.end()
        if position == len(body):
            return comparisons, joins
        j = _JOIN.match(body, position)
        if j is None:
            return None
        joins.add(j.group(1))
        position = j.end()


def _plain_hash(path: str, literal_text: str) -> bool:
    """Hash values the parser checks leave the fast path unless they are plainly valid."""
    if "hashes" not in path:
        return True
    parts = _SEPARATORS.split(path)
    if "hashes" not in parts:
        return True
    expected = _HASH_LENGTHS.get(parts[-1].strip("'"))
    value = literal_text[1:-1]
    return expected is not None and len(value) == expected and _HEX_RUN.fullmatch(value) is not None


# ---------------------------------------------------------------------------------------------- inspection


class Comparison(NamedTuple):
    """One comparison of a pattern, as stix2-patterns' inspector reads it (build with `comparison()`)."""

    object_type: str
    path: tuple[str | int | None, ...]  # property names and list indexes; None for `[*]`
    operator: str  # "=", "!=", "NOT =", "LIKE", "IN", "MATCHES", ">", ... (NOT prefixed as written)
    literal: str  # the literal as written
    dotted: str  # the path as `hashes.SHA-256`, `from_ref.value`, `body_multipart[*].name` (keys unquoted)
    value: str | None  # the whole value of a string literal, its escapes undone; None for other literals


def comparison(object_type: str, path: tuple[str | int | None, ...], operator: str, literal: str) -> Comparison:
    dotted = "".join("[*]" if s is None else f"[{s}]" if isinstance(s, int) else f".{s}" for s in path)
    is_string = len(literal) >= 2 and literal[0] == "'" and literal[-1] == "'"
    value = unescape_literal(literal) if is_string else None
    return Comparison(object_type, path, operator, literal, dotted.removeprefix("."), value)


class Inspection(NamedTuple):
    """What a valid pattern holds: its comparisons (grouped by object type, as the inspector groups them), how
    many observations it has, and the operators and qualifiers that join them."""

    comparisons: tuple[Comparison, ...]
    observations: int
    comparison_ops: frozenset[str]  # "AND"/"OR" inside observations
    observation_ops: frozenset[str]  # "AND"/"OR"/"FOLLOWEDBY" between observations
    qualifiers: frozenset[str]

    def equalities(self) -> tuple[Comparison, ...] | None:
        """The comparisons when the pattern is one observation of `=` comparisons on string values joined by
        OR, so that each alone satisfies it; None for any other pattern (never flattened)."""
        simple = (self.observations == 1 and not self.observation_ops and not self.qualifiers
                  and self.comparison_ops <= {"OR"})
        if simple and all(c.operator == "=" and c.value is not None for c in self.comparisons):
            return self.comparisons
        return None


def inspect(pattern: str) -> Inspection | None:
    """stix2-patterns' inspection of a STIX 2.1 pattern (the canonical comparison form read without the
    parser, with the same result); None when it does not parse."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return None
    found = _canonical(pattern)
    if found is not None:
        comparisons, joins = found
        items = [Comparison(t, _path_steps(p), o, v, p.replace("'", ""), unescape_literal(v))
                 for t, p, o, v in comparisons]
        order = list(dict.fromkeys(c.object_type for c in items))
        if len(order) > 1:
            items.sort(key=lambda c: order.index(c.object_type))  # stable: grouped by type, as the inspector does
        return Inspection(tuple(items), 1, frozenset(joins), frozenset(), frozenset())
    return _parsed_inspection(pattern)


def equality_values(pattern: str) -> list[tuple[str, str, str]] | None:
    """(object type, dotted path, value) of each comparison when the pattern is one observation of `=`
    comparisons on string values joined by OR (each alone satisfies it); None for any other pattern. Equal to
    `inspect(pattern).equalities()`, read without building the inspection for the canonical form (the feeds
    read every indicator of a collection this way)."""
    found = _canonical(pattern)
    if found is None:
        inspection = inspect(pattern)
        comparisons = inspection.equalities() if inspection else None
        return None if comparisons is None else [(c.object_type, c.dotted, c.value or "") for c in comparisons]
    items, joins = found
    if "AND" in joins or any(operator != "=" for _, _, operator, _ in items):
        return None
    values = [(otype, path.replace("'", ""), unescape_literal(text)) for otype, path, _, text in items]
    order = list(dict.fromkeys(otype for otype, _, _ in values))
    if len(order) > 1:
        values.sort(key=lambda v: order.index(v[0]))  # stable: grouped by type, as the inspector does
    return values


@functools.lru_cache(maxsize=65536)
def _parsed_inspection(pattern: str) -> Inspection | None:
    try:
        listener = _Listener()
        Pattern(pattern).walk(listener)
    except Exception:  # noqa: BLE001 - not a pattern (or one the parser crashes on): nothing to inspect
        return None
    return listener.inspection()


def _path_steps(path: str) -> tuple[str | int | None, ...]:
    steps: list[str | int | None] = []
    for name, quoted, index in _STEP.findall(path):
        if index:
            steps.append(None if index == "*" else int(index))
        else:
            steps.append(quoted or name)
    return tuple(steps)


class _Listener(InspectionListener):  # type: ignore[misc]
    """The inspector, also counting observations and noting how comparisons inside them are joined."""

    def __init__(self) -> None:
        super().__init__()
        self.observations = 0
        self.comparison_ops: set[str] = set()

    def exitObservationExpressionSimple(self, ctx: Any) -> None:
        self.observations += 1

    def exitComparisonExpression(self, ctx: Any) -> None:
        if ctx.OR():
            self.comparison_ops.add("OR")

    def exitComparisonExpressionAnd(self, ctx: Any) -> None:
        if ctx.AND():
            self.comparison_ops.add("AND")

    def inspection(self) -> Inspection:
        data = self.pattern_data()
        comparisons = tuple(
            comparison(otype, tuple(None if step is INDEX_STAR else step for step in path), operator, literal_text)
            for otype, items in data.comparisons.items() for path, operator, literal_text in items
        )
        return Inspection(comparisons, self.observations, frozenset(self.comparison_ops),
                          frozenset(data.observation_ops), frozenset(data.qualifiers))


def _check_hash(name: str, value: str) -> None:
    length = _HEX.get(name)
    if length is not None and (len(value) != length or not _HEX_DIGITS.match(value)):
        raise PatternError("pattern", f"file:hashes.{name}", f"{value!r} is not a valid {name} hash")


def _check_ip(value: str, version: int) -> None:
    try:
        parsed = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise PatternError("pattern", f"ipv{version}-addr:value", f"{value!r} is not an IP address") from exc
    if parsed.version != version:
        raise PatternError("pattern", f"ipv{version}-addr:value", f"{value!r} is not an IPv{version} address")
