"""A search's words as the database is asked for them: each word of `q` with the indexed words
it stands for (its other forms, the words it may be a misspelling of, and, for the last word, any
word it begins), read from the vocabulary in one statement; then as PostgreSQL tsquery texts or
SQLite FTS5 queries, for matching and for ranking (books/listing.py)."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA
from sqlalchemy import ARRAY, ColumnElement, Select, Text, bindparam, select, union

from bookly.books import search_words
from bookly.core.reads import Prepared, Reader
from bookly.models.book import search_term_keys_table, search_terms_table

MAX_SEARCH_TERMS = 10
# Misspellings a word may stand for, the nearest first: enough for any real word, and a bound on
# the size of the query a nonsense word can make.
MAX_NEAR_TERMS = 12


@dataclass(frozen=True)
class QueryWord:
    word: str
    exact: tuple[str, ...]  # the word, and its other forms in the vocabulary (same stem)
    near: tuple[str, ...]  # indexed words it may be a misspelling of
    prefix: bool  # the last word: it may be unfinished
    required: bool  # stop words ("the", "and") need not be found, unless all words are


@dataclass(frozen=True)
class SearchWords:
    words: tuple[QueryWord, ...]

    @property
    def required(self) -> list[QueryWord]:
        return [word for word in self.words if word.required]


def query_words(q: str) -> list[str]:
    return search_words.words(q)[:MAX_SEARCH_TERMS]


async def expand(reader: Reader, on_postgresql: bool, q: str) -> SearchWords:
    """`q`'s words with what each stands for in the vocabulary (no words: nothing to find)."""
    words = query_words(q)
    if not words:
        return SearchWords(())
    word_stems = search_words.stems(words)
    keys = sorted({key for word in words for key in search_words.query_keys(word)})
    rows = await reader.rows(
        vocabulary_read(on_postgresql=on_postgresql),
        {"keys": keys, "stems": sorted(set(word_stems))},
    )
    candidates = sorted({row[0] for row in rows})
    candidate_stems = dict(zip(candidates, search_words.stems(candidates), strict=True))
    only_stop_words = all(word in search_words.STOP_WORDS for word in words)
    expanded = []
    for n, (word, stem) in enumerate(zip(words, word_stems, strict=True)):
        exact = {word} | {term for term in candidates if candidate_stems[term] == stem}
        near = _nearest_first(
            word,
            (t for t in candidates if t not in exact and search_words.within_edits(word, t)),
        )
        expanded.append(
            QueryWord(
                word=word,
                exact=tuple(sorted(exact)),
                near=tuple(near[:MAX_NEAR_TERMS]),
                prefix=n == len(words) - 1,
                required=only_stop_words or word not in search_words.STOP_WORDS,
            )
        )
    return SearchWords(tuple(expanded))


def _nearest_first(word: str, terms: Iterable[str]) -> list[str]:
    return sorted(terms, key=lambda term: (OSA.distance(word, term), term))


@lru_cache(maxsize=2)
def vocabulary_read(*, on_postgresql: bool) -> Prepared:
    """The indexed words under any of the keys, or with any of the stems."""
    keys, terms = search_term_keys_table.c, search_terms_table.c

    def among(column: ColumnElement[str], name: str) -> ColumnElement[bool]:
        if on_postgresql:  # one array parameter, so that the statement is compiled once
            # `text[]`, which asyncpg knows; `varchar[]` it would look up (core/pooler.py).
            return column == bindparam(name, type_=ARRAY(Text)).any_()
        return column.in_(bindparam(name, expanding=True))

    found = union(
        select(keys.term).where(among(keys.key, "keys")),
        select(terms.term).where(among(terms.stem, "stems")),
    ).subquery("found")
    statement: Select[tuple[str]] = select(found.c.term)
    return Prepared(statement)


def _terms(word: QueryWord, with_near: bool) -> list[str]:
    """The whole words a query word may be found as (an unfinished one's prefix covers itself)."""
    exact = [term for term in word.exact if not (word.prefix and term == word.word)]
    return exact + list(word.near if with_near else ())


def _tsquery_terms(word: QueryWord, weight: str, with_near: bool) -> list[str]:
    terms = _terms(word, with_near)
    alternatives = [f"'{term}'{':' + weight if weight else ''}" for term in terms]
    if word.prefix:
        alternatives.append(f"'{word.word}':*{weight}")
    return alternatives


def _fts_terms(word: QueryWord, with_near: bool) -> list[str]:
    terms = _terms(word, with_near)
    alternatives = [f'"{term}"' for term in terms]
    if word.prefix:
        alternatives.append(f'"{word.word}"*')
    return alternatives


class PostgresQueries:
    """tsquery texts over the search vector (weight A: the title itself)."""

    @staticmethod
    def _any(word: QueryWord, weight: str = "", with_near: bool = True) -> str:
        return "(" + " | ".join(_tsquery_terms(word, weight, with_near)) + ")"

    def match(self, words: SearchWords) -> str:
        return " & ".join(self._any(word) for word in words.required)

    def exact(self, words: SearchWords, n: int) -> str:
        return self._any(words.words[n], with_near=False)

    def in_title(self, words: SearchWords, n: int) -> str:
        return self._any(words.words[n], weight="A")


class SqliteQueries:
    """FTS5 queries; a word's own query is asked among the books the whole query matches."""

    @staticmethod
    def _any(word: QueryWord, with_near: bool = True) -> str:
        return "(" + " OR ".join(_fts_terms(word, with_near)) + ")"

    def match(self, words: SearchWords) -> str:
        return " AND ".join(self._any(word) for word in words.required)

    def exact(self, words: SearchWords, n: int) -> str:
        return f"{self._any(words.words[n], with_near=False)} AND {self.match(words)}"

    def in_title(self, words: SearchWords, n: int) -> str:
        return f"main_title : {self._any(words.words[n])} AND {self.match(words)}"


def query_values(on_postgresql: bool, words: SearchWords) -> dict[str, str]:
    """The values books/listing.py's search statements are run with."""
    queries = PostgresQueries() if on_postgresql else SqliteQueries()
    values = {"match": queries.match(words)}
    for n in range(len(words.words)):
        values[f"exact_{n}"] = queries.exact(words, n)
        values[f"in_title_{n}"] = queries.in_title(words, n)
    return values
