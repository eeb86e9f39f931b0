"""The Chroma client, and the guard that turns its failures into StoreUnavailableError."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from retrieval.errors import RetrievalError, StoreUnavailableError
from retrieval.settings import StoreSettings

log = logging.getLogger(__name__)


def _client(settings: StoreSettings) -> ClientAPI:
    """Open the embedded store or connect to the configured server."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.host:
        return chromadb.HttpClient(
            host=settings.host, port=settings.port, ssl=settings.ssl, settings=chroma_settings
        )
    try:
        settings.persist_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailableError(
            f"cannot use {str(settings.persist_dir)!r} as the Chroma store folder: "
            f"{exc.strerror or exc}"
        ) from None
    return chromadb.PersistentClient(path=str(settings.persist_dir), settings=chroma_settings)


class Connection:
    """A client of the configured Chroma store, embedded or a server."""

    def __init__(self, settings: StoreSettings) -> None:
        """Open the embedded store or connect to the server."""
        self.settings = settings
        self.location = (
            f"Chroma server {settings.host}:{settings.port}"
            if settings.host
            else f"Chroma store {str(settings.persist_dir)!r}"
        )
        with self.guard():
            self.client = _client(settings)

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn a Chroma server failure or an embedded Chroma error into StoreUnavailableError."""
        try:
            yield
        except RetrievalError:
            raise
        except Exception as exc:
            if not self.settings.host and not isinstance(exc, ChromaError):
                raise
            log.warning("%s failed: %s: %s", self.location, type(exc).__name__, exc)
            raise StoreUnavailableError(
                f"the knowledge base at {self.location} is unavailable"
            ) from exc

    def delete_collection(self, name: str) -> None:
        """Delete a collection if it exists."""
        with self.guard():
            try:
                self.client.delete_collection(name)
            except Exception as exc:  # noqa: BLE001 - absent collection is fine
                log.debug("nothing to delete: %s", exc)
