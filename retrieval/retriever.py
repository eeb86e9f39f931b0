"""A LangChain retriever over a KnowledgeBase, for use in chains and agents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

if TYPE_CHECKING:
    from retrieval.kb import KnowledgeBase


class KnowledgeBaseRetriever(BaseRetriever):
    """Returns the hybrid search results of a KnowledgeBase as LangChain documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: Any
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        """Search the knowledge base and wrap each passage as a Document."""
        kb: KnowledgeBase = self.kb
        return [
            Document(
                id=p.chunk_id,
                page_content=p.text,
                metadata={
                    "source": p.source,
                    "title": p.title,
                    "score": p.score,
                    "chunk_id": p.chunk_id,
                    "chunk": p.chunk,
                    "start": p.start,
                    "end": p.end,
                    **({"url": p.url} if p.url else {}),
                },
            )
            for p in kb.search(query, k=self.k)
        ]
