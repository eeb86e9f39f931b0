"""The ingest lock: one ingest at a time writes a store, even across processes and machines."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from retrieval.errors import StoreUnavailableError
from retrieval.store.registry import DocumentRegistry, dummy_vectors

log = logging.getLogger(__name__)

INGEST_LOCK_FILE = "qabot-ingest.lock"  # in persist_dir: one embedded ingest at a time
LEASE_ID = "meta:ingest-lease"  # registry id of the record naming the server's running ingest
LEASE_S = 60.0  # a lease not renewed for this long (its ingest was killed) may be taken over
LEASE_POLL_S = 1.0  # how often a waiting ingest looks at the lease again

_SERVER_INGEST_LOCKS: dict[tuple[str, int, str], threading.Lock] = {}  # per server collection
_SERVER_INGEST_LOCKS_GUARD = threading.Lock()


class IngestLock:
    """The lock of one store: a file lock when embedded, a lease in the registry on a server."""

    def __init__(self, registry: DocumentRegistry, collection: str) -> None:
        """Lock the store whose registry this is; ``collection`` names its chunk collection."""
        self.registry = registry
        self.settings = registry.connection.settings
        self.collection = collection
        self._owner: str | None = None  # set while this process holds a server ingest lease
        self._renewed = 0.0

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock that lets one ingest at a time write this store.

        Embedded stores use a file lock, released by the system even when the process is killed.
        A server collection is shared by processes that share no files, so they take a lease in
        the registry (see :meth:`_take_lease`); a killed ingest's lease runs out after LEASE_S.
        """
        if not self.settings.host:
            path = self.settings.persist_dir / INGEST_LOCK_FILE
            with path.open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        key = (self.settings.host, self.settings.port, self.collection)
        with _SERVER_INGEST_LOCKS_GUARD:
            lock = _SERVER_INGEST_LOCKS.setdefault(key, threading.Lock())
        with lock:
            owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            self._take_lease(owner)
            try:
                yield
            finally:
                self._owner = None
                with self.registry.connection.guard():
                    self.registry.collection.delete(ids=[LEASE_ID], where={"owner": owner})

    def _lease(self) -> dict[str, Any] | None:
        """Return the ingest lease record's metadata, or None when nobody holds it."""
        with self.registry.connection.guard():
            rows = self.registry.collection.get(ids=[LEASE_ID], include=["metadatas"])
        return dict((rows["metadatas"] or [{}])[0] or {}) if rows["ids"] else None

    def _take_lease(self, owner: str) -> None:
        """Wait until this owner holds the server's ingest lease.

        Chroma's add never overwrites an existing id, so of several processes adding the lease
        at once exactly one finds its own name in it; an expired lease is deleted only if it
        still names the expired owner.
        """
        waited = False
        while True:
            with self.registry.connection.guard():
                self.registry.collection.add(
                    ids=[LEASE_ID],
                    embeddings=dummy_vectors(1),
                    metadatas=[{"owner": owner, "expires": time.time() + LEASE_S}],
                )
            lease = self._lease() or {}
            if lease.get("owner") == owner:
                self._owner, self._renewed = owner, time.monotonic()
                return
            if float(lease.get("expires", 0)) < time.time():
                log.warning("taking over the ingest lease of %s, which expired", lease.get("owner"))
                with self.registry.connection.guard():
                    self.registry.collection.delete(
                        ids=[LEASE_ID], where={"owner": str(lease.get("owner", ""))}
                    )
                continue
            if not waited:
                log.warning("waiting for the ingest of %s to finish", lease.get("owner"))
                waited = True
            time.sleep(LEASE_POLL_S)

    def keep(self) -> None:
        """Extend this process's ingest lease; ingest calls this between batches."""
        owner = self._owner
        if owner is None or time.monotonic() - self._renewed < LEASE_S / 3:
            return
        lease = self._lease() or {}
        if lease.get("owner") != owner:
            raise StoreUnavailableError(
                "another process took over this ingest's lease on the Chroma server; "
                "run the ingest again"
            )
        with self.registry.connection.guard():
            self.registry.collection.update(
                ids=[LEASE_ID], metadatas=[{"owner": owner, "expires": time.time() + LEASE_S}]
            )
        self._renewed = time.monotonic()
