"""A BM25 keyword index over stored chunks, with IDF and sentence coverage for ranking."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import bm25s
from bm25s.tokenization import Tokenizer

from retrieval.store import StoredChunk
from retrieval.text import index_terms, key_terms, sentence_spans

SENTENCE_CACHE = 50_000  # chunks whose sentence terms are kept between searches


class KeywordIndex:
    """A BM25 index over every chunk (title and text), built in memory from the store."""

    def __init__(self, chunks: Sequence[StoredChunk]) -> None:
        """Tokenise and index the chunks."""
        self.chunks = list(chunks)
        # Documents and questions are split by the same function, which also drops stopwords and
        # stems: identifiers stay whole and in parts, and their case tells where the parts are.
        self._tokenizer = Tokenizer(lower=False, splitter=index_terms, stopwords=None)
        corpus = [f"{c.title}\n{c.text}" for c in self.chunks]
        tokens = self._tokenizer.tokenize(
            corpus, update_vocab=True, return_as="ids", show_progress=False
        )
        self._bm25 = bm25s.BM25()
        if self.chunks:
            self._bm25.index(tokens, show_progress=False)
        ids = tokens.ids if hasattr(tokens, "ids") else tokens
        vocab = tokens.vocab if hasattr(tokens, "vocab") else self._tokenizer.get_vocab_dict()
        by_id = Counter(i for doc in ids for i in set(doc))
        self._doc_freq = {word: by_id.get(i, 0) for word, i in vocab.items()}
        self._sentences: dict[str, list[frozenset[str]]] = {}

    def idf(self, term: str) -> float:
        """Return the BM25 inverse document frequency of a stemmed term.

        A term the corpus never uses weighs as much as its rarest one: in a small corpus many
        ordinary words are unseen, and they should not outweigh the words that matter.
        """
        n, df = len(self.chunks), max(self._doc_freq.get(term, 0), 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def doc_freq(self, term: str) -> int:
        """Return how many chunks hold a term (as :func:`retrieval.text.index_terms` gives it)."""
        return self._doc_freq.get(term, 0)

    def sentence_terms(self, chunk: StoredChunk) -> list[frozenset[str]]:
        """Return the key terms of each sentence of a chunk, cached by chunk id."""
        found = self._sentences.get(chunk.chunk_id)
        if found is None:
            found = [frozenset(key_terms(chunk.text[a:b])) for a, b in sentence_spans(chunk.text)]
            if len(self._sentences) >= SENTENCE_CACHE:
                self._sentences.clear()
            self._sentences[chunk.chunk_id] = found
        return found

    def coverage(self, terms: Sequence[str], chunk: StoredChunk) -> float:
        """Return the IDF-weighted share of ``terms`` found together in one sentence of a chunk.

        Questions are usually answered by one sentence that repeats most of their rarer words,
        so this rewards the chunk holding that sentence over one that merely shares the topic.
        """
        weights = [self.idf(t) for t in terms]
        total = sum(weights)
        if not total:
            return 0.0
        best = max(
            (
                sum(w for t, w in zip(terms, weights, strict=True) if t in s)
                for s in self.sentence_terms(chunk)
            ),
            default=0.0,
        )
        return best / total

    def search(self, question: str, k: int) -> list[tuple[StoredChunk, float]]:
        """Return up to ``k`` chunks with a positive BM25 score, best first."""
        if not self.chunks:
            return []
        query = self._tokenizer.tokenize(
            [question], update_vocab=False, return_as="ids", show_progress=False
        )
        if not any(query[0]):
            return []
        docs, scores = self._bm25.retrieve(
            query, k=min(k, len(self.chunks)), show_progress=False, n_threads=1
        )
        return [
            (self.chunks[int(d)], float(s))
            for d, s in zip(docs[0], scores[0], strict=True)
            if s > 0
        ]
