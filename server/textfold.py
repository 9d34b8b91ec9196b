"""Folding Vietnamese text for search: "Đắk Kan" and "dak kan" fold to the same string."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold_diacritics(text: str) -> str:
    """Lower case, no diacritics, đ→d, curly apostrophes straightened, spaces collapsed."""
    text = text.replace("đ", "d").replace("Đ", "D").replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare).strip().lower()
