"""What Bookly's search is measured beside, on the same books and queries: a naive pg_trgm
similarity sort, and tantivy (BM25, English stems, ASCII folding, fuzzy terms, a prefix)."""

import uuid
from collections.abc import Sequence
from typing import ClassVar

import asyncpg
import tantivy
from catalogue import GoodBook
from scoring import TOP


class TrigramSearch:
    """`similarity(q, title || ' ' || author)`, best first, over every book of a Bookly
    database: no index, no accent folding, nothing tuned."""

    def __init__(self, connection: asyncpg.Connection, books_by_uid: dict[uuid.UUID, int]):
        self._connection = connection
        self._books_by_uid = books_by_uid

    @classmethod
    async def open(cls, database_url: str, books_by_uid: dict[uuid.UUID, int]) -> "TrigramSearch":
        connection = await asyncpg.connect(database_url)
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        return cls(connection, books_by_uid)

    async def search(self, q: str) -> list[int]:
        rows = await self._connection.fetch(
            "SELECT uid FROM books ORDER BY similarity($1, title || ' ' || author) DESC, uid"
            " LIMIT $2",
            q,
            TOP,
        )
        return [self._books_by_uid[row["uid"]] for row in rows]

    async def close(self) -> None:
        await self._connection.close()


class TantivySearch:
    """An in-memory tantivy index of the books' titles and authors. Each word of a query is
    one optional clause: the word itself, scored by BM25, or a word one edit away when it has
    3+ letters (search engines' default fuzziness), which tantivy scores as a constant; the last
    word also matches as a prefix. A title word weighs twice an author's. Books are indexed in
    the order given, on one thread: books whose scores tie come out in that order."""

    ANALYZER = "folded_english"
    FIELDS: ClassVar[dict[str, float]] = {"title": 2.0, "author": 1.0}
    FUZZY_FROM_LETTERS = 3

    def __init__(self, books: Sequence[GoodBook]):
        self._analyzer = (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stemmer("english"))
            .build()
        )
        builder = tantivy.SchemaBuilder()
        for field in self.FIELDS:
            builder.add_text_field(field, tokenizer_name=self.ANALYZER)
        builder.add_integer_field("book_id", stored=True)
        self._schema = builder.build()
        self._index = tantivy.Index(self._schema)
        self._index.register_tokenizer(self.ANALYZER, self._analyzer)
        writer = self._index.writer(num_threads=1)
        for good in books:
            writer.add_document(
                tantivy.Document(title=good.title, author=good.author, book_id=good.book_id)
            )
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()
        self._searcher = self._index.searcher()

    def search(self, q: str) -> list[int]:
        words = self._analyzer.analyze(q)
        if not words:
            return []
        clauses = [
            (tantivy.Occur.Should, self._word(word, last=n == len(words) - 1))
            for n, word in enumerate(words)
        ]
        hits = self._searcher.search(tantivy.Query.boolean_query(clauses), TOP).hits
        return [self._searcher.doc(address)["book_id"][0] for _, address in hits]

    def _word(self, word: str, *, last: bool) -> tantivy.Query:
        distance = 1 if len(word) >= self.FUZZY_FROM_LETTERS else 0
        matches = []
        for field, boost in self.FIELDS.items():
            exact = tantivy.Query.term_query(self._schema, field, word)
            matches.append(tantivy.Query.boost_query(exact, boost))
            if distance or last:
                near = tantivy.Query.fuzzy_term_query(
                    self._schema, field, word, distance=distance, prefix=last
                )
                matches.append(tantivy.Query.boost_query(near, boost))
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, m) for m in matches])
