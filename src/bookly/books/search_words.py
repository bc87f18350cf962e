"""The words search works with: a book's text and a query split the same way (accents and case
folded), the English stems that tie a word's forms together, and the deletion keys by which a
word is found from a misspelling of it."""

import re
import unicodedata
from collections.abc import Iterable, Iterator
from itertools import combinations

import Stemmer
from rapidfuzz.distance import OSA

from bookly.models.book import SERIES_OPENS

# Letters that carry no combining accent in Unicode, folded as PostgreSQL's `unaccent` folds
# them (the rest lose their accents by decomposition).
_UNACCENTED = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "\u0131": "i", "ŧ": "t", "ß": "ss", "æ": "ae",
     "œ": "oe", "þ": "th", "ð": "d"}
)  # fmt: skip
_WORD = re.compile(r"[^\W_]+")  # letters and digits; anything else separates words

# Words of these lengths match with one and with two edits (insert, delete, substitute, or swap
# two neighbours), as search engines match them.
ONE_EDIT_FROM = 5
TWO_EDITS_FROM = 9
# Longer words are indexed, but have no deletion keys: nobody misspells them into a search box.
MAX_KEYED_LETTERS = 24
MAX_TERM_LETTERS = 64

# Snowball's English stop words (PostgreSQL's `english.stop`): a query need not find these, as a
# title may spell "and" as "&".
_STOP_WORDS = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself "
    "she her hers herself it its itself they them their theirs themselves what which who whom "
    "this that these those am is are was were be been being have has had having do does did "
    "doing a an the and but if or because as until while of at by for with about against "
    "between into through during before after above below to from up down in out on off over "
    "under again further then once here there when where why how all any both each few more "
    "most other some such no nor not only own same so than too very s t can will just don "
    "should now"
)
STOP_WORDS = frozenset(_STOP_WORDS.split())

_stemmer = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lower case, without accents: "Brontë" and "bronte" are one word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.translate(_UNACCENTED)


def words(text: str | None) -> list[str]:
    return _WORD.findall(fold(text)) if text else []


def split_title(title: str) -> tuple[str, str]:
    """The title itself, and the series in its trailing parenthesis, or "" ("Dune (Dune
    Chronicles, #1)"), split where PostgreSQL's search document splits them."""
    main, opens, series = title.partition(SERIES_OPENS)
    return main, opens + series


def stems(terms: Iterable[str]) -> list[str]:
    return list(_stemmer.stemWords(list(terms)))


def max_edits(word: str) -> int:
    """How many edits a query word may be away from a word of the text."""
    if len(word) >= TWO_EDITS_FROM:
        return 2
    return 1 if len(word) >= ONE_EDIT_FROM else 0


def within_edits(word: str, term: str) -> bool:
    edits = max_edits(word)
    return edits > 0 and OSA.distance(word, term, score_cutoff=edits) <= edits


def _deletions(word: str, count: int) -> Iterator[str]:
    for kept in combinations(range(len(word)), len(word) - count):
        yield "".join(word[n] for n in kept)


def _keys(word: str, deletions: int) -> set[str]:
    keys = {word}
    for count in range(1, deletions + 1):
        keys.update(_deletions(word, count))
    return keys


def term_keys(term: str) -> set[str]:
    """The keys an indexed word is found by: itself with up to as many letters deleted as a
    query word that may match it could have edits (symmetric deletion: a word and a query word
    within k edits have a common key of at most k deletions from each)."""
    if len(term) > MAX_KEYED_LETTERS:
        return {term}
    # A query word of ONE_EDIT_FROM letters may have one letter more than the term; one of
    # TWO_EDITS_FROM, two more.
    deletions = 2 if len(term) >= TWO_EDITS_FROM - 2 else 1 if len(term) >= ONE_EDIT_FROM - 1 else 0
    return _keys(term, deletions)


def query_keys(word: str) -> set[str]:
    """The keys under which the indexed words near a query word are found."""
    return _keys(word, max_edits(word)) if len(word) <= MAX_KEYED_LETTERS else {word}
