"""The cache server's chunks on disk: aligned pieces of the mirror's files, LRU-bounded, each fetched once.

A byte range is served from the aligned ``CHUNK``-sized pieces it covers; only the missing ones are fetched, one
request per run of consecutive missing chunks. Parallel connections often want the same chunk (a tile's bands and
neighbours): one fetches it, the others wait for it. Chunks are written whole or not at all, at most ``max_bytes``
of them, the least recently used dropped first; a new process adopts what an earlier one left, oldest first.
Standard library only: this runs in the cache's child process.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

from .mirror import Mirror, UpstreamError

#: Chunk size on disk: small enough that a range read fetches little more than it needs.
CHUNK = 128 * 1024
#: The wait of a chunk already on disk: over at once.
_DONE = threading.Event()
_DONE.set()


class ChunkStore:
    """Chunks of remote files on disk, LRU-bounded, fetched from the mirror when missing."""

    def __init__(self, folder: str | os.PathLike, max_bytes: int, timeout: float, user_agent: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes, self.timeout = int(max_bytes), float(timeout)
        self.mirror = Mirror(timeout, user_agent)
        self._lock = threading.Lock()
        self._chunks: OrderedDict[Path, int] = OrderedDict()  # least recently used first
        self._total = 0
        self._fetching: dict[tuple[str, int], threading.Event] = {}  # chunks a thread is fetching now
        self._scan()

    @property
    def upstream_requests(self) -> int:
        return self.mirror.requests

    def stats(self) -> dict:
        return {"total_bytes": self._total, "upstream_requests": self.upstream_requests, "max_bytes": self.max_bytes}

    def size(self, url: str) -> int:
        """Size of a remote file, from disk or by fetching its first chunk (kept); one fetch for many askers."""
        known = self._known_size(url)
        if known is None:
            mine, theirs = self._claim(url, [0])
            try:
                if theirs:  # another connection is fetching it: its answer serves both
                    theirs[0][1].wait(self.timeout + 5)
                    known = self._known_size(url)
                if known is None:  # ours to fetch, or theirs failed: fetch it, to fail in our own words
                    data, known = self.mirror.fetch(url, 0, CHUNK - 1)
                    self._store(url, 0, data, known)
            finally:
                self._release(url, mine)
        return known

    def _known_size(self, url: str) -> int | None:
        try:
            return int((self._dir(url) / "size").read_text())
        except (OSError, ValueError):
            return None

    def read(self, url: str, first: int, last: int) -> bytes:
        """Bytes ``first..last`` (inclusive) of a remote file, fetching only the chunks not on disk."""
        return b"".join(self.parts(url, first, last))

    def parts(self, url: str, first: int, last: int) -> list[memoryview]:
        """``read``'s bytes as views of the chunks, in order: sent as they are, with no copy joining them (a 10 m
        view is 146 MB, and every copy of it costs CPU the two cores' decoding needs)."""
        size = self.size(url)
        if first >= size or last >= size:  # GDAL asks for what the header promises: the file was cut short
            self.mirror.record_failure(url, 416)
            if first >= size:
                raise UpstreamError(416, "past the end")
        last = min(last, size - 1)
        wanted = range(first // CHUNK, last // CHUNK + 1)
        have = {i: self._load(url, i) for i in wanted}
        mine, theirs = self._claim(url, [i for i, data in have.items() if data is None])
        try:
            for run in _runs(mine):
                self._fetch_run(url, run, size, have)
        finally:
            self._release(url, mine)
        for i, fetched in theirs:  # chunks another connection was fetching: wait for them, never fetch them twice
            fetched.wait(self.timeout + 5)
            have[i] = self._load(url, i)
            if have[i] is None:  # its fetch failed, or the chunk was dropped since
                self._fetch_run(url, [i], size, have)
        views = [memoryview(have[i]) for i in wanted]  # type: ignore[arg-type]
        end = last - wanted[-1] * CHUNK + 1
        views[-1] = views[-1][:end]  # the last first: with one chunk, both cuts fall in it
        views[0] = views[0][first - wanted.start * CHUNK :]
        return views

    def _fetch_run(self, url: str, run: list[int], size: int, have: dict) -> None:
        start, end = run[0] * CHUNK, min(size, (run[-1] + 1) * CHUNK) - 1
        data, _ = self.mirror.fetch(url, start, end)
        self._store(url, start, data, size)
        view = memoryview(data)  # chunks as views of the answer, not copies
        for i in run:
            have[i] = view[(i - run[0]) * CHUNK : (i - run[0] + 1) * CHUNK]

    def _claim(self, url: str, chunks: list[int]) -> tuple[list[int], list[tuple[int, threading.Event]]]:
        """Split missing chunks into those this thread fetches and those another is fetching now or has stored
        since this thread looked on disk (to wait for, or just load): GDAL reads a tile's bands and neighbours on
        parallel connections, and they often share a chunk. Checked under the lock, as the other thread stores then
        releases under it: a chunk fetched between our look and our claim was fetched again (seen in CI)."""
        mine, theirs = [], []
        folder = self._dir(url)
        with self._lock:
            for i in chunks:
                event = self._fetching.get((url, i))
                if event is None and folder / str(i) in self._chunks:
                    theirs.append((i, _DONE))
                elif event is None:
                    self._fetching[(url, i)] = threading.Event()
                    mine.append(i)
                else:
                    theirs.append((i, event))
        return mine, theirs

    def _release(self, url: str, chunks: list[int]) -> None:
        with self._lock:
            for i in chunks:
                self._fetching.pop((url, i)).set()

    def _dir(self, url: str) -> Path:
        return self.folder / hashlib.sha256(url.encode()).hexdigest()[:32]

    def _load(self, url: str, i: int) -> bytes | None:
        path = self._dir(url) / str(i)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        with self._lock:
            if path in self._chunks:
                self._chunks.move_to_end(path)
        return data

    def _store(self, url: str, start: int, data: bytes, size: int) -> None:
        folder = self._dir(url)
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / "size", str(size).encode())
        view = memoryview(data)
        for k in range(0, len(data), CHUNK):
            piece = view[k : k + CHUNK]
            if len(piece) < CHUNK and start + k + len(piece) < size:
                break  # a partial chunk in the middle of the file: not stored, so chunks are always whole
            path = folder / str((start + k) // CHUNK)
            _write(path, piece)
            with self._lock:
                self._total += len(piece) - self._chunks.pop(path, 0)
                self._chunks[path] = len(piece)
        self._evict()

    def _evict(self) -> None:
        with self._lock:
            while self._total > self.max_bytes and len(self._chunks) > 1:
                path, n = self._chunks.popitem(last=False)
                self._total -= n
                path.unlink(missing_ok=True)

    def _scan(self) -> None:
        found = []
        for folder in self.folder.iterdir():
            if folder.is_dir():
                for f in folder.iterdir():
                    if f.name.isdigit():
                        st = f.stat()
                        found.append((st.st_mtime, f, st.st_size))
        for _, f, n in sorted(found, key=lambda t: t[0]):
            self._chunks[f] = n
            self._total += n
        self._evict()


def _runs(indexes: list[int]) -> list[list[int]]:
    """Consecutive runs of sorted integers."""
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # whole or not at all: a reader never sees half a chunk
