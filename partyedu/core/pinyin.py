"""Pinyin initials for search, so that a secretary can type ``zs`` to find 张三.

pypinyin is imported on first use, not with this module: its dictionaries take about 57 MB in
every process that loads them, and most web workers never write a name (searching reads the
stored initials). A worker that creates or imports members pays it once, on the first name.
"""

from __future__ import annotations

from collections.abc import Iterable
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


# --- full pinyin, for sorting and filtering lists of names -----------------------------------------
#
# Sorting a list of names by pinyin needs every character's reading at page time, in web workers.
# Importing pypinyin would cost those workers its ~57 MB; the readings of single characters are a
# small table of its own (pinyin_dict.json, 0.8 MB), read here directly, without tones, to a few
# megabytes. Names are read character by character (a name is not a phrase), each by its first
# (most common) reading, except a surname whose reading as a surname differs.

# Surnames read differently from the character's first reading: 单 is shàn as a surname, not dān;
# 曾 is zēng, not céng. Compound surnames are matched first.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "万俟": ("mo", "qi"),
    "尉迟": ("yu", "chi"),
    "单于": ("chan", "yu"),
    "澹台": ("tan", "tai"),
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "查": ("zha",),
    "朴": ("piao",),
    "覃": ("qin",),
    "缪": ("miao",),
    "盖": ("ge",),
    "乐": ("yue",),
    "召": ("shao",),
    "翟": ("zhai",),
    "秘": ("bi",),
    "繁": ("po",),
    "员": ("yun",),
    "种": ("chong",),
    "折": ("she",),
    "句": ("gou",),
    "隗": ("wei",),
    "黑": ("he",),
    "能": ("nai",),
    "藏": ("zang",),
    "重": ("chong",),
    "祭": ("zhai",),
    "阚": ("kan",),
    "薄": ("bo",),
    "都": ("du",),
    "洗": ("xian",),
    "乜": ("nie",),
}


def _toneless(reading: str) -> str:
    """``lǜ`` → ``lv``, ``dān`` → ``dan`` (ü is typed v)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _readings() -> dict[int, str]:
    """Code point → first reading without tone, for every character pypinyin knows."""
    import json
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("pypinyin")
    locations = list(spec.submodule_search_locations or []) if spec else []
    table = Path(locations[0]) / "pinyin_dict.json" if locations else None
    if table is not None and table.exists():
        raw: dict[str, str] = json.loads(table.read_text(encoding="utf-8"))
        items: Iterable[tuple[int, str]] = ((int(k), v) for k, v in raw.items())
    else:  # a pypinyin that keeps its table elsewhere: the same table, at the price of the import
        from pypinyin.pinyin_dict import pinyin_dict

        items = pinyin_dict.items()
    syllables: dict[str, str] = {}
    return {code: syllables.setdefault(s, s) for code, v in items for s in [_toneless(v.split(",")[0])]}


@lru_cache(maxsize=65536)
def syllables(name: str, *, as_surname: bool = True) -> tuple[str, ...]:
    """The pinyin of ``name``, one lowercase syllable per character (a character with no reading,
    such as a Latin letter or the ``·`` of 阿依古丽·买买提, stands for itself; spaces are dropped).
    ``as_surname`` reads the first character(s) as a surname (单 → shan)."""
    name = name.strip()
    head: tuple[str, ...] = ()
    if as_surname:
        for surname in (name[:2], name[:1]):
            if surname in SURNAME_READINGS:
                head, name = SURNAME_READINGS[surname], name[len(surname) :]
                break
    readings = _readings()
    return head + tuple(readings.get(ord(c), c.lower()) for c in name if not c.isspace())


def sort_key(name: str) -> tuple[tuple[str, ...], str]:
    """Sort key of a person's name in pinyin order (by syllable: 詹 zhan before 张 zhang), the
    name itself breaking ties between names read alike."""
    return syllables(name), name


def search_text(name: str) -> str:
    """What a filter box matches a name against, space-separated: its full pinyin and its
    initials, read as a surname and, where that differs, by the characters' first readings
    (单立 → ``shanli sl danli dl``)."""
    variants = dict.fromkeys((syllables(name), syllables(name, as_surname=False)))
    words = []
    for syl in variants:
        words += ["".join(syl), "".join(s[:1] for s in syl)]
    return " ".join(dict.fromkeys(words))
