"""Hybrid search: dense vectors from Chroma and BM25 keywords, fused by score or by rank."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import numpy as np

from retrieval.embedding import Embedder
from retrieval.keyword_index import KeywordIndex
from retrieval.settings import RetrievalSettings
from retrieval.store import Registry, StoredChunk, VectorStore
from retrieval.text import key_terms
from retrieval.types import Passage

log = logging.getLogger(__name__)

# A full keyword index rebuild starts, in the background, once the chunks added and removed since
# the last one pass this share of it (the changed chunks are scored with the last build's corpus
# statistics until then), or MERGE_MIN chunks, whichever is more.
MERGE_FRACTION = 0.1
MERGE_MIN = 1000
RERANK_DEPTH = 20  # candidates, best by dense and BM25 score, that are rescored with coverage


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
    return Passage(
        text=chunk.text,
        source=chunk.source,
        title=chunk.title,
        score=score,
        chunk_id=chunk.chunk_id,
        chunk=chunk.chunk,
        start=chunk.start,
        end=chunk.end,
        url=chunk.url,
        rank_score=rank_score,
        section=chunk.section,
        opens_in_code=chunk.opens_in_code,
    )


class HybridSearcher:
    """Searches one store; keeps its keyword index in step with the store's registry.

    A registry change is applied to the keyword index as a change (see
    :mod:`retrieval.keyword_index`): its cost follows the documents that changed, not the corpus.
    Once the changes since the last full build pass ``MERGE_FRACTION`` of it, a full build runs
    in a background thread and replaces the index when done; searches go on meanwhile.
    """

    def __init__(self, store: VectorStore, embedder: Embedder, settings: RetrievalSettings) -> None:
        """Remember the parts; the keyword index is built on first search."""
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._index: KeywordIndex | None = None
        self._index_registry: Registry | None = None  # the registry the index holds the chunks of
        self._lock = threading.Lock()
        self._merging: threading.Thread | None = None
        self.full_builds = 0  # keyword index builds over the whole corpus so far

    def keyword_index(self, registry: Registry | None = None) -> KeywordIndex:
        """Return a keyword index of the chunks live in ``registry`` (default: the current one).

        The index follows the registry by the documents that changed since its own version.
        """
        registry = registry or self.store.registry()
        with self._lock:
            index, held = self._index, self._index_registry
            if index is None or held is None:
                return self._install(self._build(registry), registry)
            if held.version == registry.version:
                return index
            removed, added = registry.changes_since(held)
            if len(removed) + len(added) > len(index) // 2:
                return self._install(self._build(registry), registry)  # mostly a new corpus
            chunks = self.store.get(added, registry) if added else []
            index = index.updated(removed, chunks)
            if len(chunks) < len(added):
                # Chunks went since ``registry`` was read: the caller's read is retried at a
                # newer version, so this index serves it once and is not kept.
                return index
            self._install(index, registry)
            if index.changes > max(MERGE_MIN, MERGE_FRACTION * index.base_size):
                self._merge_in_background()
            return index

    def _build(self, registry: Registry) -> KeywordIndex:
        """Build a keyword index over every chunk live in ``registry``."""
        started = time.perf_counter()
        index = KeywordIndex(self.store.all_chunks(registry))
        self.full_builds += 1
        log.info(
            "keyword index built over %d chunks in %.2f s",
            len(index),
            time.perf_counter() - started,
        )
        return index

    def _install(self, index: KeywordIndex, registry: Registry) -> KeywordIndex:
        """Make ``index`` (of the chunks live in ``registry``) the one searches start from."""
        self._index, self._index_registry = index, registry
        return index

    def _merge_in_background(self) -> None:
        """Start a full build in a background thread unless one is running."""
        if self._merging is not None and self._merging.is_alive():
            return
        self._merging = threading.Thread(target=self._merge, name="qabot-bm25-merge", daemon=True)
        self._merging.start()

    def _merge(self) -> None:
        """Build the keyword index in full from a consistent read, then install it."""
        try:
            registry, chunks = self.store.read(lambda r: (r, self.store.all_chunks(r)))
            started = time.perf_counter()
            index = KeywordIndex(chunks)
            self.full_builds += 1
        except Exception as exc:  # noqa: BLE001 - searches keep the index they have
            log.warning("keyword index rebuild failed: %s: %s", type(exc).__name__, exc)
            return
        with self._lock:
            # Installed even if the registry moved on meanwhile: the next search applies the
            # documents changed since, as with any other version change.
            self._install(index, registry)
        log.info(
            "keyword index rebuilt over %d chunks in the background in %.2f s",
            len(index),
            time.perf_counter() - started,
        )

    def neighbours(self, passage: Passage) -> list[Passage]:
        """Return the chunks just before and after ``passage`` in its section, when it has one.

        They come from the keyword index, which holds every live chunk; without one (BM25 off,
        or before the first search) there are none.
        """
        index = self._index
        if index is None or not passage.section:
            return []
        found = []
        for number in (passage.chunk - 1, passage.chunk + 1):
            chunk = index.at(passage.source, number)
            if chunk is not None and chunk.section == passage.section:
                found.append(to_passage(chunk, 0.0, 0.0))
        return found

    def corrected(self, question: str) -> str:
        """Return the question with its misspelt words replaced by words the documents use.

        See :mod:`retrieval.spelling`; ``retrieval.spelling = false`` turns it off. The words
        are those of the last keyword index (built here before the first search), so this
        costs no read of the store; the search that follows brings the index up to date.
        """
        if not self.settings.spelling:
            return question
        return (self._index or self.keyword_index()).corrected(question)

    def warm_up(self) -> None:
        """Build the keyword index, and its spelling words when spelling is on, ahead of use.

        After a search the index is there already: no further read of the store is made.
        """
        index = self._index or self.keyword_index()
        if self.settings.spelling:
            index.warm_spelling()

    def idf(self, term: str) -> float:
        """Return a stemmed term's IDF in the last keyword index, or 1.0 before one is built."""
        index = self._index
        return index.idf(term) if index is not None else 1.0

    def doc_freq(self, term: str) -> int | None:
        """Return how many chunks of the last keyword index hold a term (None before one)."""
        index = self._index
        return index.doc_freq(term) if index is not None else None

    def search(self, question: str, k: int, vector: np.ndarray | None = None) -> list[Passage]:
        """Return the ``k`` best passages for ``question``, fused from dense and BM25 results.

        Dense and keyword results come from one consistent read of the store.
        """
        if vector is None:
            vector = self.embedder.encode([question])[0]
        query = vector
        return self.store.read(lambda registry: self._search(question, k, query, registry))

    def _search(
        self, question: str, k: int, vector: np.ndarray, registry: Registry
    ) -> list[Passage]:
        """Search the chunks live in ``registry``."""
        fetch = max(self.settings.fetch_k, k)
        dense = self.store.query(vector, fetch, registry)
        index = self.keyword_index(registry) if self.settings.bm25_weight else None
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
