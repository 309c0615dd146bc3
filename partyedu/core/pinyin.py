"""Pinyin initials for search, so that a secretary can type ``zs`` to find 张三.

pypinyin is imported on first use, not with this module: its dictionaries take about 57 MB in
every process that loads them, and most web workers never write a name (searching reads the
stored initials). A worker that creates or imports members pays it once, on the first name.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import islice, product

MAX_VARIANTS = 4


@lru_cache(maxsize=65536)  # names repeat a lot in imports and seeds
def initials(text: str) -> str:
    """Space-separated initials of every reading (heteronyms such as 单 give several), each
    preceded by a space so that ``contains(" " + query)`` is a prefix match."""
    if not text:
        return ""
    from pypinyin import Style, pinyin

    # pypinyin's stubs say ``errors`` returns a str; a callable returning a list (here: the
    # characters themselves) is what its documentation describes.
    letters = pinyin(text, style=Style.FIRST_LETTER, heteronym=True, errors=list)  # type: ignore[arg-type]
    choices = [[c.lower() for c in dict.fromkeys(options) if c] or [""] for options in letters]
    variants = ["".join(combo) for combo in islice(product(*choices), MAX_VARIANTS)]
    return "".join(f" {v}" for v in dict.fromkeys(variants))[:100]
