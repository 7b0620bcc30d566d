"""English for messages: counts with the right noun form and "a" or "an" by sound (issue 15, item 11).

Pure Python, no Django: the engine's findings and the site's labels both use it.
"""

from __future__ import annotations

import re

# Letters whose spoken name starts with a vowel sound ("an AM4", "an SATA", "an NVMe", "an RTX"), used for
# initialisms (a word written in capitals or starting with capitals and a digit).
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")
# Words that start with a vowel letter but a consonant sound, and the reverse.
_CONSONANT_SOUND = re.compile(r"^(one|once|uni|use|usu|eu|ure|u[bcfklrst][aeiou])", re.IGNORECASE)
_VOWEL_SOUND = re.compile(r"^(hour|honest|honou?r|heir)", re.IGNORECASE)


# Acronyms spoken as words, not letter by letter ("a SATA SSD").
_SPOKEN_AS_WORDS = {"SATA", "NEMA", "SODIMM", "SO"}


def _initialism(word: str) -> bool:
    head = re.match(r"[A-Za-z0-9]+", word)
    token = head.group(0) if head else word
    if token.upper() in _SPOKEN_AS_WORDS:
        return False
    if re.match(r"^[a-z][A-Z0-9]", token):  # sTR5, sWRX8, x16
        return True
    letters = re.sub(r"[^A-Za-z]", "", token)
    return (
        len(token) >= 2
        and (token.isupper() or bool(re.match(r"^[A-Z]{2,}|^[A-Z]+\d", token)))
        and bool(letters)
    )


def article(word: str) -> str:
    """'a' or 'an' for `word` by how it is spoken: an AM4, a DDR5, an 8-pin, a 12V-2x6, an hour, a USB."""
    word = word.strip()
    if not word:
        return "a"
    first = word[0]
    digits = re.match(r"[0-9]+", word)  # ASCII digits only: "²" or "٣" is a digit to isdigit() but not spoken
    if digits:
        number = digits.group(0)
        # 8, 11, 18, 80, 800, 8000: "an eight", "an eleven", "an eighteen", "an eighty"
        spoken_an = number.startswith("8") or number in ("11", "18") or re.fullmatch(r"1[18]\d{2}", number)
        return "an" if spoken_an else "a"
    if _initialism(word):
        return "an" if first.upper() in _VOWEL_SOUND_LETTERS else "a"
    if _VOWEL_SOUND.match(word):
        return "an"
    if first.lower() in "aeiou" and not _CONSONANT_SOUND.match(word):
        return "an"
    return "a"


def with_article(word: str) -> str:
    return f"{article(word)} {word}"


def plural(count: int | float, singular: str, plural_form: str | None = None) -> str:
    """'1 GPU', '2 GPUs', '0 GPUs', '1 device', '3 devices' (count and noun)."""
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    if count == 1:
        return f"{shown} {singular}"
    return f"{shown} {plural_form or singular + 's'}"
