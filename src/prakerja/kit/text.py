"""Text people type that other people read: names, addresses, labels.

Invisible characters change what a reader sees without being seen: a right-to-left override (U+202E) shows
``Budi\u202eartsinimdA`` as "BudiAdministra", zero-width spaces (U+200B) and joiners make two names that look
the same differ. Every person-entered name is refused when it holds one (see :func:`invisible_characters`)."""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Control (Cc), format (Cf: bidi embeddings, overrides and isolates, zero-width space/joiners, soft hyphen,
byte-order mark), surrogate (Cs), private-use (Co) and unassigned (Cn) characters, line and paragraph separators."""


def invisible_characters(value: str, *, allow_newlines: bool = False) -> bool:
    """True when ``value`` holds a character of :data:`REFUSED_CATEGORIES` (tab, CR and LF too unless
    ``allow_newlines``: a multi-line field)."""
    for char in value:
        if char.isascii() and (" " <= char <= "~" or (allow_newlines and char in "\t\r\n")):
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return True
    return False
