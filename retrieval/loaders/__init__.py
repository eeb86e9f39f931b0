"""Files -> documents: one parser per format, registered by file extension.

Each format module registers its parser on import; ``files`` walks a folder and loads what it finds.
"""

from retrieval.document import Block, Document, Section
from retrieval.loaders import asciidoc, html, markdown, mdx, notebook, pdf, plain, rst, word
from retrieval.loaders.base import (
    TITLE_MAX_CHARS,
    Parsed,
    SkipFile,
    content_hash,
    decode_text,
    register,
    registered_extensions,
)
from retrieval.loaders.cleaning import Cleaner
from retrieval.loaders.files import LoadResult, iter_files, load_documents, load_file, within

__all__ = [
    "TITLE_MAX_CHARS",
    "Block",
    "Cleaner",
    "Document",
    "LoadResult",
    "Parsed",
    "Section",
    "SkipFile",
    "asciidoc",
    "content_hash",
    "decode_text",
    "html",
    "iter_files",
    "load_documents",
    "load_file",
    "markdown",
    "mdx",
    "notebook",
    "pdf",
    "plain",
    "register",
    "registered_extensions",
    "rst",
    "within",
    "word",
]
