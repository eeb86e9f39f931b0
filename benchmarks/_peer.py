"""The peer the comparisons measure this project against: the LangChain tutorial pipeline.

RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200), HuggingFaceEmbeddings with the
packaged model (the one this project uses), Chroma.similarity_search(k=TOP_K).
"""

from __future__ import annotations

import time
from typing import Any

from retrieval.embedding import resolve_model
from retrieval.evaluation import TOP_K

PEER_CHUNK_SIZE = 1000  # the LangChain tutorial's splitter settings
PEER_CHUNK_OVERLAP = 200
MODEL = "all-MiniLM-L6-v2"  # the packaged model, for both systems


def peer_embeddings() -> Any:
    """Return the peer's HuggingFaceEmbeddings over the packaged model, already warmed up."""
    from langchain_huggingface import HuggingFaceEmbeddings

    embeddings = HuggingFaceEmbeddings(model_name=resolve_model(MODEL))
    embeddings.embed_query("warm up")
    return embeddings


def peer_store(documents: list[Any], embeddings: Any, directory: str) -> tuple[Any, int]:
    """Split LangChain documents as the tutorial does and index them; return store and chunks."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=PEER_CHUNK_SIZE, chunk_overlap=PEER_CHUNK_OVERLAP
    )
    chunks = splitter.split_documents(documents)
    return Chroma.from_documents(chunks, embeddings, persist_directory=directory), len(chunks)


def peer_search(store: Any, question: str) -> tuple[list[Any], float]:
    """Return the peer's top-k documents for a question and the milliseconds the search took."""
    started = time.perf_counter()
    found = store.similarity_search(question, k=TOP_K)
    return found, (time.perf_counter() - started) * 1000
