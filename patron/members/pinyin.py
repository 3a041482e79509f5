"""Names as their pinyin, so staff can find 王小明 by typing `wang`, `wxm` or `wangxiaoming`.

Cashiers search on keyboards without a Chinese input method switched on, so a member's name is
kept beside it as lowercase pinyin (`Member.name_pinyin`): the whole name run together, then
its initials, e.g. "wangxiaoming wxm". pypinyin reads a character by its most common sound,
not as a surname: for the surnames read otherwise (曾 zeng, 单 shan, 仇 qiu …) the surname
reading is added too, so both spellings find the member. Letters that are not Chinese (an
English name) are kept as they are, lowercased.
"""

from __future__ import annotations

import functools
import re

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT

MAX_LENGTH = 200  # the column's length; a 50-character name stays far below it
# Surnames whose reading differs from the character's most common one.
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "仇": "qiu",
    "解": "xie",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "乐": "yue",
    "盖": "ge",
    "缪": "miao",
    "翟": "zhai",
    "覃": "qin",
    "尉": "yu",
    "员": "yun",
    "柏": "bai",
    "秘": "bi",
    "种": "chong",
    "繁": "po",
    "冼": "xian",
    "召": "shao",
}
_NOT_LETTER = re.compile(r"[^a-z]")
SHORT_NAME = 6  # longer names (rare) go through pypinyin whole
CJK_FIRST, CJK_LAST = "\u4e00", "\u9fff"  # the CJK Unified Ideographs block


def _letters(syllable: str) -> str:
    return _NOT_LETTER.sub("", syllable.lower())


def _spelling(syllables: list[str]) -> tuple[str, str]:
    """(run-together, initials) of a list of syllables."""
    parts = [letters for letters in map(_letters, syllables) if letters]
    return "".join(parts), "".join(part[0] for part in parts)


def name_syllables(name: str) -> list[str]:
    """pypinyin's syllables of a name, without its segmenter when it would not be used.

    pypinyin reads a text by the longest phrases of its dictionary it finds in it, else
    character by character; a name holding no such phrase (most names) is spelled from its
    characters' spellings, remembered, which a big import does 10 times faster.
    """
    if (
        len(name) <= SHORT_NAME
        and all(CJK_FIRST <= character <= CJK_LAST for character in name)
        and not any(
            name[start:end] in PHRASES_DICT
            for start in range(len(name))
            for end in range(start + 2, len(name) + 1)
        )
    ):
        return [character_syllable(character) for character in name]
    return lazy_pinyin(name, style=Style.NORMAL)


@functools.cache  # bounded by the CJK block: about 21,000 characters
def character_syllable(character: str) -> str:
    return lazy_pinyin(character, style=Style.NORMAL)[0]


def name_pinyin(name: str) -> str:
    """The searchable pinyin of a name: "zhangsan zs" for 张三; "" for no name."""
    name = (name or "").strip()
    if not name:
        return ""
    syllables = name_syllables(name)
    spellings = [_spelling(syllables)]
    if (surname := SURNAME_READINGS.get(name[0])) is not None:
        spelling = _spelling([surname, *syllables[1:]])
        if spelling not in spellings:
            spellings.append(spelling)
    words: list[str] = []
    for full, initials in spellings:
        for word in (full, initials):
            if word and word not in words:
                words.append(word)
    return " ".join(words)[:MAX_LENGTH]


def pinyin_query(text: str) -> str | None:
    """What to look for in `name_pinyin` when someone typed `text`: lowercase ASCII letters
    (spaces dropped, "Zhang San" -> "zhangsan"); None when it is not pinyin at all."""
    letters = text.replace(" ", "").lower()
    if letters and letters.isascii() and letters.isalpha():
        return letters
    return None
