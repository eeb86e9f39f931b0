"""Hybrid search: dense vectors from Chroma and BM25 keywords, fused by score or by rank."""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Sequence

import bm25s
import numpy as np
from bm25s.tokenization import Tokenizer

from retrieval.embedding import Embedder
from retrieval.settings import RetrievalSettings
from retrieval.store import StoredChunk, VectorStore
from retrieval.text import STOPWORDS, key_terms, sentence_spans, stemmer
from retrieval.types import Passage

log = logging.getLogger(__name__)

RERANK_DEPTH = 20  # candidates, best by dense and BM25 score, that are rescored with coverage
SENTENCE_CACHE = 50_000  # chunks whose sentence terms are kept between searches


class KeywordIndex:
    """A BM25 index over every chunk (title and text), built in memory from the store."""

    def __init__(self, chunks: Sequence[StoredChunk]) -> None:
        """Tokenise and index the chunks."""
        self.chunks = list(chunks)
        self._tokenizer = Tokenizer(stopwords=list(STOPWORDS), stemmer=stemmer().stemWord)
        corpus = [f"{c.metadata.get('title', '')}\n{c.text}" for c in self.chunks]
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


def rrf_fuse(
    rankings: Sequence[tuple[Sequence[str], float]], rrf_k: int
) -> list[tuple[str, float]]:
    """Fuse ranked id lists by weighted reciprocal rank; return (id, score) best first."""
    scores: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


def to_passage(chunk: StoredChunk, score: float, rank_score: float) -> Passage:
    """Build a Passage from a stored chunk."""
    meta = chunk.metadata
    return Passage(
        text=chunk.text,
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        score=score,
        chunk_id=chunk.chunk_id,
        chunk=int(meta.get("chunk", 0)),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        url=str(meta["url"]) if meta.get("url") else None,
        rank_score=rank_score,
    )


class HybridSearcher:
    """Searches one store; keeps its keyword index in step with the store's version."""

    def __init__(self, store: VectorStore, embedder: Embedder, settings: RetrievalSettings) -> None:
        """Remember the parts; the keyword index is built on first search."""
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._index: KeywordIndex | None = None
        self._index_version: str | None = None
        self._lock = threading.Lock()

    def keyword_index(self) -> KeywordIndex:
        """Return a keyword index that matches the store, rebuilding it if the store changed."""
        version = self.store.version()
        with self._lock:
            if self._index is None or version != self._index_version:
                self._index = KeywordIndex(self.store.all_chunks())
                self._index_version = version
                log.info("keyword index built over %d chunks", len(self._index.chunks))
            return self._index

    def idf(self, term: str) -> float:
        """Return a stemmed term's IDF in the last keyword index, or 1.0 before one is built."""
        index = self._index
        return index.idf(term) if index is not None else 1.0

    def search(self, question: str, k: int, vector: np.ndarray | None = None) -> list[Passage]:
        """Return the ``k`` best passages for ``question``, fused from dense and BM25 results."""
        if vector is None:
            vector = self.embedder.encode([question])[0]
        fetch = max(self.settings.fetch_k, k)
        dense = self.store.query(vector, fetch)
        index = self.keyword_index() if self.settings.bm25_weight else None
        keyword = index.search(question, fetch) if index else []
        chunks = {c.chunk_id: c for c, _ in keyword} | {c.chunk_id: c for c, _ in dense}
        similarity = {c.chunk_id: s for c, s in dense}
        if self.settings.fusion == "rrf":
            fused = rrf_fuse(
                [
                    ([c.chunk_id for c, _ in dense], self.settings.dense_weight),
                    ([c.chunk_id for c, _ in keyword], self.settings.bm25_weight),
                ],
                self.settings.rrf_k,
            )[:k]
            missing = [cid for cid, _ in fused if cid not in similarity]
        else:
            missing = [cid for cid in chunks if cid not in similarity]
        for cid, vec in self.store.vectors(missing).items():
            similarity[cid] = float(np.dot(vec, vector))
        if self.settings.fusion != "rrf":
            fused = self.score_fuse(question, chunks, similarity, keyword, index)[:k]
        return [
            to_passage(chunks[cid], similarity.get(cid, 0.0), rank_score)
            for cid, rank_score in fused
        ]

    def score_fuse(
        self,
        question: str,
        chunks: dict[str, StoredChunk],
        similarity: dict[str, float],
        keyword: Sequence[tuple[StoredChunk, float]],
        index: KeywordIndex | None,
    ) -> list[tuple[str, float]]:
        """Rank by weighted cosine, BM25 (relative to the best) and sentence coverage."""
        cfg = self.settings
        best_bm25 = max((s for _, s in keyword), default=0.0) or 1.0
        bm25 = {c.chunk_id: s / best_bm25 for c, s in keyword}
        first = {
            cid: cfg.dense_weight * similarity.get(cid, 0.0) + cfg.bm25_weight * bm25.get(cid, 0.0)
            for cid in chunks
        }
        ranked = sorted(first.items(), key=lambda item: item[1], reverse=True)
        if not cfg.coverage_weight or not keyword or index is None:
            return ranked
        terms = key_terms(question)
        head = [
            (cid, score + cfg.coverage_weight * index.coverage(terms, chunks[cid]))
            for cid, score in ranked[:RERANK_DEPTH]
        ]
        head.sort(key=lambda item: item[1], reverse=True)
        return head + ranked[RERANK_DEPTH:]
