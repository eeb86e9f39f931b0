"""A BM25 keyword index over stored chunks that follows changes at the cost of the change.

A full build is the *base*: a bm25s index, whose scores are computed once for every chunk. What
changed since is kept beside it: chunks added since are the *delta*, scored at search time with
the same BM25 formula; chunks removed since are *tombstones*, masked out of the base's scores.
:meth:`KeywordIndex.updated` returns a new index that shares the base, so a search running on the
old one is never disturbed, and costs what changed, not the corpus.

The approximation: BM25 scores use the corpus statistics of the base (its number of chunks, each
term's document frequency and the mean chunk length) for the base's chunks and the delta's alike,
so the two are comparable; a term only the delta uses counts as one no base chunk has. The caller
rebuilds in full once the change grows past a fraction of the base (see
:mod:`retrieval.search`), which brings the statistics up to date. The document frequencies behind
:meth:`KeywordIndex.idf` (sentence coverage and abstention) are exact at every version.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
from bm25s.tokenization import Tokenizer

from retrieval.spelling import Speller, correct
from retrieval.store import StoredChunk
from retrieval.text import index_terms, key_term_set, sentence_spans, term_coverage
from retrieval.types import place_label

SENTENCE_CACHE = 50_000  # chunks whose sentence terms are kept between searches
# bm25s.BM25's defaults (the Lucene variant); the delta is scored with the same formula.
BM25_K1 = 1.5
BM25_B = 0.75


def indexed_text(chunk: StoredChunk) -> str:
    """Return the text a chunk is indexed by: its title and heading path, then its own text."""
    return f"{place_label(chunk.title, chunk.section)}\n{chunk.text}"


@dataclass(frozen=True, slots=True)
class _Base:
    """A full build: never changed once made, shared by every index updated from it."""

    chunks: list[StoredChunk]
    position: dict[str, int]  # chunk id -> row in chunks and in the bm25s index
    bm25: bm25s.BM25
    doc_freq: Counter[int]  # token id -> chunks of the base that hold it
    mean_length: float

    def idf(self, token: int) -> float:
        """Return the BM25 inverse document frequency of a token in the base, as bm25s does."""
        n, df = len(self.chunks), self.doc_freq.get(token, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True, slots=True)
class _Added:
    """A chunk added since the base, with what scoring it needs."""

    chunk: StoredChunk
    counts: Counter[int]  # token id -> occurrences
    length: int


class KeywordIndex:
    """A BM25 index over chunks (title and text): a full base build plus what changed since."""

    def __init__(self, chunks: Sequence[StoredChunk]) -> None:
        """Tokenise and index the chunks: a full build."""
        # Documents and questions are split by the same function, which also drops stopwords and
        # stems: identifiers stay whole and in parts, and their case tells where the parts are.
        self._tokenizer = Tokenizer(lower=False, splitter=index_terms, stopwords=None)
        listed = list(chunks)
        tokens = self._tokenizer.tokenize(
            [indexed_text(c) for c in listed],
            update_vocab=True,
            return_as="ids",
            show_progress=False,
        )
        ids = tokens.ids if hasattr(tokens, "ids") else tokens
        bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        if listed:
            bm25.index(tokens, show_progress=False)
        self._base = _Base(
            chunks=listed,
            position={c.chunk_id: i for i, c in enumerate(listed)},
            bm25=bm25,
            doc_freq=Counter(i for doc in ids for i in set(doc)),
            mean_length=float(np.mean([len(doc) for doc in ids])) if ids else 1.0,
        )
        self._alive = np.ones(len(listed), dtype=np.float32)  # 0 marks a tombstone
        self._own_mask = True
        self._dead = 0
        self._added: dict[str, _Added] = {}
        self._df_change: dict[int, int] = {}  # token id -> chunks added minus chunks removed
        self._sentences: dict[str, list[frozenset[str]]] = {}
        self._places: dict[tuple[str, int], StoredChunk] | None = None
        self._speller: Speller | None = None  # built on the first misspelt word, then kept

    @property
    def chunks(self) -> list[StoredChunk]:
        """Return the chunks this index searches, base ones first."""
        base = [c for c, alive in zip(self._base.chunks, self._alive, strict=True) if alive]
        return base + [a.chunk for a in self._added.values()]

    def at(self, source: str, number: int) -> StoredChunk | None:
        """Return chunk ``number`` of document ``source`` when this index searches it."""
        if self._places is None:
            self._places = {(c.source, c.chunk): c for c in self.chunks}
        return self._places.get((source, number))

    def corrected(self, question: str) -> str:
        """Return the question with its misspelt words replaced by words these chunks use."""
        return correct(question, lambda term: self.doc_freq(term) > 0, self._words)

    def warm_spelling(self) -> None:
        """Index the chunks' words for spelling now, not on the first misspelt question."""
        self._words()

    def _words(self) -> Speller:
        """Return the words of the chunks for spelling lookups, indexed on first use."""
        if self._speller is None:
            self._speller = Speller(indexed_text(c) for c in self.chunks)
        return self._speller

    def __len__(self) -> int:
        """Return the number of chunks this index searches."""
        return len(self._base.chunks) - self._dead + len(self._added)

    @property
    def base_size(self) -> int:
        """Return the number of chunks of the last full build."""
        return len(self._base.chunks)

    @property
    def changes(self) -> int:
        """Return the chunks added and removed since the last full build."""
        return self._dead + len(self._added)

    def _token_ids(self, text: str, *, learn: bool) -> list[int]:
        """Return the token ids of a text; ``learn`` gives words new to the index an id."""
        ids = self._tokenizer.tokenize(
            [text], update_vocab=learn, return_as="ids", show_progress=False, allow_empty=False
        )
        return list(ids[0])

    def updated(self, removed: Collection[str], added: Sequence[StoredChunk]) -> KeywordIndex:
        """Return this index with ``removed`` chunk ids gone and ``added`` chunks searchable.

        An added chunk replaces a chunk of the same id. This index is left as it was.
        """
        new = object.__new__(KeywordIndex)
        new._tokenizer, new._base, new._sentences = self._tokenizer, self._base, self._sentences
        new._alive, new._own_mask, new._dead = self._alive, False, self._dead
        new._places = None
        # The words of added chunks join the speller every version shares; words of removed
        # chunks stay in it, which at worst corrects a word to one that no longer matches.
        new._speller = self._speller
        new._added, new._df_change = dict(self._added), dict(self._df_change)
        for chunk_id in {*removed, *(c.chunk_id for c in added)}:
            new._remove(chunk_id)
        for chunk in added:
            counts = Counter(new._token_ids(indexed_text(chunk), learn=True))
            new._added[chunk.chunk_id] = _Added(chunk, counts, sum(counts.values()))
            for token in counts:
                new._df_change[token] = new._df_change.get(token, 0) + 1
        if new._speller is not None:
            new._speller.add(indexed_text(c) for c in added)
        return new

    def _remove(self, chunk_id: str) -> None:
        """Take one chunk out of this (new, not yet shared) index, if it holds it."""
        gone = self._added.pop(chunk_id, None)
        if gone is not None:
            tokens: Collection[int] = gone.counts
        else:
            row = self._base.position.get(chunk_id)
            if row is None or not self._alive[row]:
                return
            if not self._own_mask:  # the mask is shared with the index this one came from
                self._alive, self._own_mask = self._alive.copy(), True
            self._alive[row] = 0.0
            self._dead += 1
            tokens = set(self._token_ids(indexed_text(self._base.chunks[row]), learn=False))
        for token in tokens:
            self._df_change[token] = self._df_change.get(token, 0) - 1

    def idf(self, term: str) -> float:
        """Return the BM25 inverse document frequency of a stemmed term among the live chunks.

        A term the corpus never uses weighs as much as its rarest one: in a small corpus many
        ordinary words are unseen, and they should not outweigh the words that matter.
        """
        n, df = len(self), max(self.doc_freq(term), 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def doc_freq(self, term: str) -> int:
        """Return how many live chunks hold a term (as :func:`retrieval.text.index_terms` gives)."""
        token = self._tokenizer.get_vocab_dict().get(term)
        if token is None:
            return 0
        return self._base.doc_freq.get(token, 0) + self._df_change.get(token, 0)

    def sentence_terms(self, chunk: StoredChunk) -> list[frozenset[str]]:
        """Return the key terms of each sentence of a chunk, cached by chunk id."""
        found = self._sentences.get(chunk.chunk_id)
        if found is None:
            found = [key_term_set(chunk.text[a:b]) for a, b in sentence_spans(chunk.text)]
            if len(self._sentences) >= SENTENCE_CACHE:
                self._sentences.clear()
            self._sentences[chunk.chunk_id] = found
        return found

    def coverage(self, terms: Sequence[str], chunk: StoredChunk) -> float:
        """Return the IDF-weighted share of ``terms`` found together in one sentence of a chunk.

        Questions are usually answered by one sentence that repeats most of their rarer words,
        so this rewards the chunk holding that sentence over one that merely shares the topic.
        """
        return term_coverage(terms, self.sentence_terms(chunk), self.idf)

    def search(self, question: str, k: int) -> list[tuple[StoredChunk, float]]:
        """Return up to ``k`` chunks with a positive BM25 score, best first."""
        query = self._token_ids(question, learn=False)
        if not query or not len(self):
            return []
        found = self._search_base(query, k) + self._search_added(query)
        found.sort(key=lambda item: item[1], reverse=True)
        return found[:k]

    def _search_base(self, query: list[int], k: int) -> list[tuple[StoredChunk, float]]:
        """Return the base's best live chunks for the query's token ids."""
        base = self._base
        if not base.chunks:
            return []
        columns = [base.bm25.vocab_dict[t] for t in query if t in base.bm25.vocab_dict]
        if not columns:
            return []
        scores = base.bm25.get_scores_from_ids(columns, weight_mask=self._alive)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        return [(base.chunks[int(i)], float(scores[i])) for i in top if scores[i] > 0]

    def _search_added(self, query: list[int]) -> list[tuple[StoredChunk, float]]:
        """Score the chunks added since the base with the base's statistics."""
        if not self._added:
            return []
        base = self._base
        weights = {t: base.idf(t) for t in set(query)}
        found = []
        for added in self._added.values():
            norm = BM25_K1 * (1 - BM25_B + BM25_B * added.length / base.mean_length)
            score = 0.0
            for token in query:
                tf = added.counts.get(token)
                if tf:
                    score += weights[token] * tf / (tf + norm)
            if score > 0:
                found.append((added.chunk, score))
        return found
