"""Limits against hostile mail (security.md §2.3), checked before and while parsing.

Every limit has a name; a mail that exceeds one is refused with `EmlLimitExceeded(source, <name>, …)`, before
the expensive step it protects (the quadratic encoded-word decoder, the recursive MIME parser, decompression).
Archive limits do not refuse the mail: the archive keeps its own hashes and loses only its member list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmlLimits:
    max_raw_bytes: int = 32 * 1024 * 1024
    max_header_block_bytes: int = 256 * 1024  # all headers of the message or of one part
    max_header_bytes: int = 64 * 1024  # one header, unfolded
    max_encoded_words: int = 400  # RFC 2047 words in one header (decoding cost grows with them)
    max_mime_depth: int = 30
    max_parts: int = 1000
    max_archive_entries: int = 1000
    max_archive_bytes: int = 256 * 1024 * 1024  # sum of the declared uncompressed sizes
    max_archive_ratio: int = 200  # declared uncompressed size / compressed size, per entry
    max_archive_depth: int = 2  # archives inside archives that are listed


DEFAULT_LIMITS = EmlLimits()
