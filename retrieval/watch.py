"""Live re-sync: watch the documents folder and re-index what changed, in the background.

One thread collects file-system changes (watchfiles, which uses the system's notifications);
another waits until the folder has been quiet for ``documents.watch_debounce_s`` and then runs
one incremental ingest limited to the changed paths. A burst of changes (a ``git pull``, an
editor's save dance) therefore becomes one ingest; changes made during an ingest are picked up
by the next. Searches meanwhile are served by the registry as usual: every document wholly old
or wholly new. An ingest that fails is logged as one line and retried with the same paths after
a pause, so a store that is briefly down loses nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import watchfiles

from retrieval.kb import KnowledgeBase
from retrieval.types import IngestReport

log = logging.getLogger(__name__)

WHOLE_FOLDER = "."  # a change to the folder itself: everything is ingested
MAX_WAIT_FACTOR = 20  # changes that never stop are ingested after this many debounce periods
RETRY_S = 5.0  # first pause before retrying a failed ingest; doubles up to RETRY_MAX_S
RETRY_MAX_S = 60.0
POLL_MS = 500  # how often the watching thread looks at its stop flag while nothing changes
STOP_WAIT_S = 30.0  # how long stop() waits for a running ingest to finish

Reporter = Callable[[IngestReport], None]


class DocumentWatcher:
    """Re-indexes a knowledge base's documents folder whenever files in it change.

    >>> with DocumentWatcher(kb) as watcher:
    ...     ...  # edit files under kb.settings.documents.seeds_dir; answers follow in seconds
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        debounce_s: float | None = None,
        on_report: Reporter | None = None,
    ) -> None:
        """Watch ``kb``'s documents folder once started; ``on_report`` gets each ingest's counts."""
        self.kb = kb
        self.root = Path(kb.settings.documents.seeds_dir)
        settings = kb.settings.documents
        self.debounce_s = settings.watch_debounce_s if debounce_s is None else debounce_s
        self.on_report = on_report
        self.ingests = 0  # ingests run so far, failed ones included
        self.indexed_paths: set[str] = set()  # every changed path handed to an ingest so far
        self._extensions = {e.lower() for e in kb.settings.documents.extensions}
        self._pending: set[str] = set()
        self._first_change = 0.0
        self._last_change = 0.0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._real_root = self.root.resolve()  # watchfiles reports paths under the real folder

    def __enter__(self) -> DocumentWatcher:
        """Start watching."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop watching."""
        self.stop()

    @property
    def running(self) -> bool:
        """Return True while the watching and ingesting threads run."""
        return any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        """Start the watching and ingesting threads; a missing folder is logged, not raised."""
        if self.running:
            return
        if not self.root.is_dir():
            log.warning("not watching %s: the documents folder does not exist", self.root)
            return
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._watch, name="qabot-watch", daemon=True),
            threading.Thread(target=self._ingest_loop, name="qabot-reindex", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info("watching %s for changes", self.root)

    def stop(self, timeout: float = STOP_WAIT_S) -> None:
        """Stop both threads, letting a running ingest finish (it is safe to kill, too)."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _relative(self, path: str) -> str | None:
        """Return a changed path relative to the folder, or None when it is not a document."""
        try:
            rel = Path(path).relative_to(self._real_root)
        except ValueError:
            return None
        if rel == Path():
            return WHOLE_FOLDER
        if any(part.startswith(".") for part in rel.parts):
            return None  # hidden files and folders (.git) are never indexed
        if rel.suffix and rel.suffix.lower() not in self._extensions:
            return None  # an editor's swap file; a folder (no suffix) may hold documents
        return rel.as_posix()

    def _watch(self) -> None:
        """Collect changed paths until stopped."""
        try:
            for changes in watchfiles.watch(
                self._real_root,
                stop_event=self._stop,
                debounce=max(1, int(self.debounce_s * 1000)),
                rust_timeout=POLL_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                found = {rel for _, path in changes if (rel := self._relative(path))}
                if found:
                    self._note(found)
        except Exception as exc:  # noqa: BLE001 - the watcher must never take the program down
            log.error("stopped watching %s: %s: %s", self.root, type(exc).__name__, exc)

    def _note(self, paths: set[str]) -> None:
        """Queue changed paths for the ingesting thread."""
        with self._changed:
            now = time.monotonic()
            if not self._pending:
                self._first_change = now
            self._pending |= paths
            self._last_change = now
            self._changed.notify_all()

    def _next_batch(self) -> set[str] | None:
        """Wait for changes and for the folder to go quiet; return the paths, or None to stop."""
        with self._changed:
            while not self._pending and not self._stop.is_set():
                self._changed.wait()
            while not self._stop.is_set():
                now = time.monotonic()
                quiet_at = self._last_change + self.debounce_s
                latest = self._first_change + self.debounce_s * MAX_WAIT_FACTOR
                if now >= min(quiet_at, latest):
                    break
                self._changed.wait(min(quiet_at, latest) - now)
            if self._stop.is_set():
                return None
            batch, self._pending = self._pending, set()
            return batch

    def _ingest_loop(self) -> None:
        """Ingest each batch of changes until stopped."""
        failures = 0
        while (batch := self._next_batch()) is not None:
            only = None if WHOLE_FOLDER in batch else batch
            self.ingests += 1
            self.indexed_paths |= batch
            try:
                report = self.kb.ingest(only=only)
            except Exception as exc:  # noqa: BLE001 - logged as one line; the program stays up
                retry_s = min(RETRY_S * 2**failures, RETRY_MAX_S)
                failures += 1
                log.error(
                    "re-indexing %d changed paths failed, retrying in %.0f s: %s: %s",
                    len(batch),
                    retry_s,
                    type(exc).__name__,
                    exc,
                )
                self._note(batch)
                self._stop.wait(retry_s)
                continue
            failures = 0
            log.info("re-indexed %d changed paths: %s", len(batch), report.summary())
            if self.on_report is not None:
                self.on_report(report)
