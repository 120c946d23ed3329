"""Finding a voter without a valgkort: by name and date of birth, tolerant of spelling.

Like EVA's phonetic search: names are folded to a phonetic key (Norwegian spelling
variants such as Kristoffersen/Christophersen, Møller/Möller, Aase/Åse meet), then the
voters born that day are ranked with RapidFuzz (a well-kept C++ implementation of
edit-distance scores; hand-written Levenshtein in Python would be slower and add code).
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz, process

MAX_HITS = 50
MIN_SCORE = 70.0

_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    ("ö", "ø"), ("ä", "æ"), ("aa", "å"), ("ae", "æ"), ("oe", "ø"),
    ("sch", "sj"), ("ch", "k"), ("ph", "f"), ("th", "t"), ("ck", "k"), ("qu", "kv"),
    ("c", "k"), ("q", "k"), ("z", "s"), ("w", "v"), ("x", "ks"), ("dt", "t"),
)


_PLAIN = str.maketrans({"å": "a", "æ": "e", "ø": "o"})


def phonetic_key(name: str) -> str:
    """Fold a name so that spelling variants compare equal or close."""
    text = unicodedata.normalize("NFC", name).casefold()
    text = "".join(ch if (ch.isalpha() or ch == " ") else " " for ch in text)
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    # Letters outside Norwegian's alphabet lose their accents (é -> e).
    text = "".join(
        ch if ch in "æøå " else unicodedata.normalize("NFKD", ch)[0] for ch in text
    )
    text = re.sub(r"(.)\1+", r"\1", text)  # double letters: Møller -> Møler
    # Last, the Norwegian letters fold to their nearest plain letter, so that a clerk
    # typing without æøå ("Ase Moller") still finds "Åse Møller".
    text = text.translate(_PLAIN)
    return " ".join(text.split())


#: A name that holds every word typed (a surname alone, as on the ID card's first line)
#: scores this much below a name that is all of what was typed, so whole names come first.
PART_OF_NAME = 5.0


def _score(query: str, name: str, *, processor: object = None, score_cutoff: float | None = None) -> float:
    """The whole name compared (word order free), or the words typed found in it: a clerk
    who types only the surname, with the date of birth, still finds the voter."""
    whole = fuzz.token_sort_ratio(query, name)
    part = fuzz.token_set_ratio(query, name) - PART_OF_NAME
    best = max(whole, part)
    return best if score_cutoff is None or best >= score_cutoff else 0.0


def rank(query: str, names: list[str], *, limit: int = MAX_HITS) -> list[tuple[int, float]]:
    """Indexes into ``names`` that match ``query``, best first, with their scores."""
    key = phonetic_key(query)
    if not key:
        return []
    keys = [phonetic_key(n) for n in names]
    matches = process.extract(key, keys, scorer=_score, limit=limit, score_cutoff=MIN_SCORE)
    return [(index, score) for _, score, index in matches]
