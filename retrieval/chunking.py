"""Documents -> chunks on sentence boundaries, with offsets and ids derived from content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from retrieval.loaders import Document
from retrieval.text import SENTENCE_BREAK

# Paragraphs first, then lines, then sentence ends (optionally followed by a closing quote or
# bracket), then clause punctuation, then words; characters only as a last resort.
SENTENCE_SEPARATORS = [
    r"\n\s*\n",
    r"\n",
    SENTENCE_BREAK,
    r"(?<=[;:])\s+",
    r"(?<=,)\s+",
    r"\s+",
    "",
]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document with its place in the original text."""

    chunk_id: str
    text: str
    source: str
    title: str
    chunk: int
    start: int
    end: int
    content_hash: str
    url: str | None = None

    def metadata(self) -> dict[str, str | int]:
        """Return the metadata stored next to the chunk in the vector store."""
        meta: dict[str, str | int] = {
            "source": self.source,
            "title": self.title,
            "chunk": self.chunk,
            "start": self.start,
            "end": self.end,
            "content_hash": self.content_hash,
        }
        if self.url:
            meta["url"] = self.url
        return meta

    def embedding_text(self) -> str:
        """Return the text to embed: the title gives a chunk the context of its document."""
        if self.text.lstrip().startswith(self.title):
            return self.text
        return f"{self.title}\n{self.text}"


def chunk_id(source: str, start: int, text: str) -> str:
    """Return a stable id for a chunk: the same content at the same place gets the same id."""
    digest = hashlib.sha256(f"{source}\x00{start}\x00{text}".encode()).hexdigest()
    return digest[:32]


class Chunker:
    """Splits documents into overlapping chunks of about ``chunk_size`` characters."""

    def __init__(self, chunk_size: int, chunk_overlap: int) -> None:
        """Build the sentence-aware splitter."""
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            separators=SENTENCE_SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            add_start_index=True,
            strip_whitespace=True,
        )

    def split(self, document: Document) -> list[Chunk]:
        """Return the chunks of one document, numbered from 0."""
        chunks = []
        for number, piece in enumerate(self._splitter.create_documents([document.text])):
            text = piece.page_content
            clean_start = int(piece.metadata["start_index"])
            start = document.original_offset(clean_start)
            end = document.original_offset(clean_start + len(text))
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(document.source, start, text),
                    text=text,
                    source=document.source,
                    title=document.title,
                    chunk=number,
                    start=start,
                    end=end,
                    content_hash=document.content_hash,
                    url=document.url,
                )
            )
        return chunks
