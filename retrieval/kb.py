"""KnowledgeBase: the public entry point that ties loading, the store, search and answers."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, Literal

import numpy as np

from retrieval.answering.abstain import not_mentioned
from retrieval.answering.answer import AnswerComposer
from retrieval.embedding import Embedder
from retrieval.errors import RetrievalError
from retrieval.ingest import Progress, ingest
from retrieval.questions import clean_history, clean_question, resolve_follow_up, without_noise
from retrieval.retriever import KnowledgeBaseRetriever
from retrieval.search import HybridSearcher, to_passage
from retrieval.settings import Secrets, Settings, load_settings, with_overrides
from retrieval.store import VectorStore
from retrieval.types import Answer, IngestReport, Passage, SourceInfo

Mode = Literal["extractive", "llm"]
TOPICS_SHOWN = 3  # document titles named when suggesting what to ask about
PROGRESS_DELAY_S = 2.0  # the ingest progress bar appears only on runs longer than this
WARM_UP_QUESTION = "warm up the search"  # any words: the passages found are discarded
QUESTION_TOKENS_WARMED = 64  # the model is prepared for questions up to this long


def _tqdm_progress(total: int) -> Progress:
    """Return a progress callback that drives a tqdm bar on standard error."""
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        unit="chunk",
        delay=PROGRESS_DELAY_S,
        file=sys.stderr,
        leave=False,
        disable=None,
    )

    def advance(n: int) -> None:
        bar.update(n)
        if bar.n >= total:
            bar.close()

    return advance


class KnowledgeBase:
    """Documents in a folder, indexed in Chroma, searchable and answerable with citations.

    >>> kb = KnowledgeBase(seeds_dir="seeds", persist_dir="/tmp/kb")
    >>> report = kb.ingest()
    >>> kb.ask("When will Petro meet Trump?").citations[0].source
    'petro-trump-white-house-meeting.txt'
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        config_file: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> None:
        """Use ``settings`` or load them from config/ and the environment; apply ``overrides``."""
        if settings is None:
            settings = load_settings(Settings, config_file=config_file, **overrides)
        elif overrides:
            settings = with_overrides(settings, **overrides)
        self.settings = settings
        self.embedder = Embedder(settings.embedding)
        self._store: VectorStore | None = None
        self._searcher: HybridSearcher | None = None
        # An excerpt's sentences may be scored by a faster model; one model when backends agree.
        self._composer = AnswerComposer(
            Embedder(settings.embedding.for_excerpts()), settings.answer
        )
        self._lock = threading.RLock()  # the searcher is built while holding it, opening the store

    def __repr__(self) -> str:
        """Describe the knowledge base without any secret."""
        where = self._store.location if self._store else "not opened"
        return f"KnowledgeBase(seeds_dir={str(self.settings.documents.seeds_dir)!r}, store={where})"

    @property
    def store(self) -> VectorStore:
        """Return the vector store, opening it on first use."""
        with self._lock:
            if self._store is None:
                self._store = VectorStore(self.settings.store, self.embedder)
            return self._store

    @property
    def searcher(self) -> HybridSearcher:
        """Return the hybrid searcher, built once even when the first questions arrive together."""
        with self._lock:
            if self._searcher is None:
                self._searcher = HybridSearcher(self.store, self.embedder, self.settings.retrieval)
            return self._searcher

    def ingest(
        self,
        *,
        progress: bool = False,
        rebuild: bool = False,
        only: Collection[str] | None = None,
    ) -> IngestReport:
        """Index the documents folder incrementally and return the counts.

        ``rebuild`` drops the collection first, for example after changing the embedding model.
        ``only`` limits the run to these paths relative to the folder (files, or whole folders),
        such as the ones a watcher saw change; sources there that no longer exist are removed.
        """
        if rebuild:
            with self._lock:
                self._store = VectorStore(self.settings.store, self.embedder, rebuild=True)
                self._searcher = None
        factory: Callable[[int], Progress] | None = _tqdm_progress if progress else None
        report = ingest(self.settings, self.store, self.embedder, factory, only)
        if report.changed and self._searcher is not None:
            # A process that answers questions rebuilds its keyword index here, in the ingest's
            # thread, so the next question does not wait for it.
            self._searcher.keyword_index()
        return report

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """Return the ``k`` most relevant passages (default ``retrieval.top_k``).

        >>> [p.source for p in kb.search("When will Petro meet Trump?", k=1)]
        ['petro-trump-white-house-meeting.txt']
        """
        text = clean_question(question, self.settings.answer.max_question_chars, self.topics)
        searched = self.searcher.corrected(without_noise(text))
        return self._search(searched, k or self.settings.retrieval.top_k)

    def warm_up(self) -> None:
        """Load the model and build the in-memory indexes, so the first question pays for neither.

        One search loads the embedding model and the keyword index; the spelling index (about
        a second at 10k chunks) is built too when ``retrieval.spelling`` is on. The model runs
        once on each input shape that questions and answers give, which OpenVINO prepares on
        first sight (about 10 ms each, a few tenths of a second in all).
        """
        self.search(WARM_UP_QUESTION, 1)
        self.searcher.warm_up()
        self.embedder.warm_up(1, QUESTION_TOKENS_WARMED)
        self._composer.warm_up()

    def _search(self, text: str, k: int, vector: np.ndarray | None = None) -> list[Passage]:
        """Search a cleaned question, dense and keyword results from one version of the index."""
        return self.searcher.search(text, k, vector)

    def ask(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        mode: Mode | None = None,
    ) -> Answer:
        """Answer with cited sentences from the documents, or abstain when they do not cover it.

        ``history`` holds earlier questions of the conversation, oldest first; a follow-up is
        resolved against them and ``Answer.searched_question`` says what was searched.
        """
        final: Answer | None = None
        for item in self.ask_stream(question, history=history, mode=mode):
            if isinstance(item, Answer):
                final = item
        if final is None:  # ask_stream always ends with an Answer
            raise RuntimeError("no answer was produced")
        return final

    def ask_stream(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        mode: Mode | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text as it is generated (llm mode only), then the final checked Answer."""
        mode = mode or self.settings.answer.mode
        text = clean_question(question, self.settings.answer.max_question_chars, self.topics)
        recent = clean_history(history, self.settings.answer.max_question_chars)
        api_key = Secrets().llm_api_key if mode == "llm" else None
        if mode == "llm" and recent:
            from retrieval.answering.llm import condense_question

            searched = condense_question(recent, text, self.settings.llm, api_key)
        else:
            searched = resolve_follow_up(without_noise(text), recent)
        searched = self.searcher.corrected(searched)
        vector = self.embedder.encode([searched])[0]
        passages = self._search(searched, self.settings.retrieval.top_k, vector)
        around = self.searcher.neighbours(passages[0]) if passages else []
        answer = self._composer.compose(
            text, vector, passages, searched, self.searcher.idf, context=around
        )
        answer = not_mentioned(answer, self.searcher.doc_freq, self.settings.answer.suggestions)
        if mode != "llm" or (answer.abstained and not passages):
            yield answer
            return
        from retrieval.answering.llm import stream_llm_answer

        yield from stream_llm_answer(searched, passages, answer, self.settings.llm, api_key)

    def sources(self) -> list[SourceInfo]:
        """Return the indexed documents with their chunk counts, sorted by source."""
        documents = self.store.registry().documents
        return [
            SourceInfo(
                source=source,
                title=record.title,
                chunks=len(record.chunk_ids),
                content_hash=record.content_hash,
                url=record.url,
            )
            for source, record in sorted(documents.items())
        ]

    def topics(self, count: int = TOPICS_SHOWN) -> list[str]:
        """Return the titles of the largest indexed documents, to suggest what to ask about.

        An unreadable store gives no topics rather than an error: they only word a hint.
        """
        try:
            sources = self.sources()
        except RetrievalError:
            return []
        largest = sorted(sources, key=lambda s: (-s.chunks, s.source))
        return list(dict.fromkeys(s.title for s in largest if s.title.strip()))[:count]

    def passages(self, chunk_ids: Sequence[str]) -> list[Passage]:
        """Return the full passages with these chunk ids, in the order asked."""
        return [to_passage(c, 0.0, 0.0) for c in self.store.get(chunk_ids)]

    def as_retriever(self, k: int | None = None) -> KnowledgeBaseRetriever:
        """Return a LangChain retriever that runs this knowledge base's hybrid search."""
        return KnowledgeBaseRetriever(kb=self, k=k or self.settings.retrieval.top_k)
