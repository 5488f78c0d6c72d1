"""Checking STIX patterns at ingest: a fast recogniser for the common comparison forms, and stix2-patterns'
full ANTLR parser for everything else.

The full parser costs a quarter to a whole millisecond per pattern, more than everything else Add Objects
does with an indicator. Almost every real indicator is one observation of `=`/`!=` comparisons on a
canonical object path, joined by OR (or AND on the same object type):

    [file:hashes.'SHA-256' = '4bac…' OR file:hashes.MD5 = 'b4e0…']
    [domain-name:value = 'c2.example']

The recogniser accepts only a strict subset of what the parser accepts (exact canonical spacing, string
literals without control characters or surrogates, hash values that are plain hex of the right length), so
whatever it accepts the parser accepts too; anything else — and every rejection — goes to the parser, which
also writes the error message. A property test checks the subset claim on generated and real patterns.
"""

from __future__ import annotations

import functools
import re

from stix2patterns.validator import run_validator

MAX_PATTERN_LENGTH = 65536

_TYPE = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED_KEY = r"'[A-Za-z0-9_-]+'"
_PATH = rf"{_IDENT}(?:\.(?:{_IDENT}|{_QUOTED_KEY})|\[(?:\*|0|[1-9][0-9]{{0,8}})\])*"
# a string literal: anything but quote and backslash, or the two escapes the grammar defines
_STRING = r"'(?:[^'\\\x00-\x1f\x7f\ud800-\udfff]|\\'|\\\\)*'"
_COMPARISON = re.compile(rf"({_TYPE}):({_PATH}) (?:=|!=) ({_STRING})")
_JOIN = re.compile(r" (OR|AND) ")
_HASH_LENGTHS = {"MD5": 32, "SHA-1": 40, "SHA1": 40, "SHA-256": 64, "SHA256": 64, "SHA-512": 128, "SHA512": 128}
_HEX = re.compile(r"[0-9a-fA-F]+")
# words the pattern lexer reads as keywords or booleans, never as names
_RESERVED = frozenset({
    "AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET", "EXISTS", "LAST", "IN", "START",
    "STOP", "SECONDS", "true", "false", "WITHIN", "REPEATS", "TIMES",
})


# the operand of MATCHES: a string literal with the grammar's two escapes
_MATCHES = re.compile(r"\bMATCHES\s+'((?:[^'\\]|\\.)*)'")


def _fast_accepts(pattern: str) -> bool:
    if not (pattern.startswith("[") and pattern.endswith("]")):
        return False
    body = pattern[1:-1]
    position, types, joins = 0, set(), set()
    while True:
        m = _COMPARISON.match(body, position)
        if m is None:
            return False
        otype, path, value = m.groups()
        if otype in _RESERVED or not _plain_path(path, value):
            return False
        types.add(otype)
        position = m.end()
        if position == len(body):
            break
        j = _JOIN.match(body, position)
        if j is None:
            return False
        joins.add(j.group(1))
        position = j.end()
    return not ("AND" in joins and len(types) > 1)


def _plain_path(path: str, value: str) -> bool:
    """Path components that are reserved words, and hash values the parser checks, leave the fast path
    unless the value is plainly valid."""
    parts = re.split(r"[.\[]", path)
    if any(p in _RESERVED for p in parts):
        return False
    if "hashes" not in parts:
        return True
    algorithm = parts[-1].strip("'")
    expected = _HASH_LENGTHS.get(algorithm)
    literal = value[1:-1]
    return expected is not None and len(literal) == expected and _HEX.fullmatch(literal) is not None


@functools.lru_cache(maxsize=65536)
def pattern_error(pattern: str, spec_version: str = "2.1") -> str | None:
    """The first problem in a STIX pattern, or None when it is valid. Never raises."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    if spec_version == "2.1" and _fast_accepts(pattern):
        return None
    return full_parser_error(pattern, spec_version) or _regex_error(pattern)


def _regex_error(pattern: str) -> str | None:
    """MATCHES takes a regular expression, which stix2-patterns does not check. It is compiled, never run
    (spec/security.md §2.2: no user regex is evaluated by a backtracking engine here)."""
    for m in _MATCHES.finditer(pattern):
        regex = m.group(1).replace("\\'", "'").replace("\\\\", "\\")
        try:
            re.compile(regex)
        except (re.error, RecursionError, OverflowError) as exc:
            return f"MATCHES: {regex[:80]!r} is not a valid regular expression ({exc})"
    return None


def full_parser_error(pattern: str, spec_version: str = "2.1") -> str | None:
    """stix2-patterns' verdict, with its crashes on hostile input turned into a verdict too."""
    try:
        errors = run_validator(pattern, stix_version="2.1" if spec_version == "2.1" else "2.0")
    except Exception as exc:  # noqa: BLE001 - the parser can crash on hostile input; that is a bad pattern
        return f"the pattern could not be parsed ({type(exc).__name__})"
    if errors:
        return str(errors[0]).removeprefix("FAIL: ")
    return None
