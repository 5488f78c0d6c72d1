"""Built feed files, kept on disk per generation, so a poll streams a file and an unchanged feed costs nothing.

A generation is what one scope (a collection as one kind of caller sees it) holds at a moment: the store's
change marker for the scope (kept at write time: one look-up, storage/*_feed_state.py), the last instant at
which an indicator started or expired, and the version of the exclusion lists. Its key is a hash of those, the
same in every worker and machine, and so are the ETags drawn from it. Files are built once per generation and
format into `<cache>/<scope>/<generation>/`, written to a temporary name and renamed, under a per-file lock so
that concurrent first requests build once; later generations of a scope replace earlier ones, which are
removed a while after.

The generation's clock part needs the indicators' validity windows: it is computed by reading the scope once and
then kept in process memory (a few numbers per scope) until the next start or expiry instant passes.
Must not: know HTTP, or decide access.
"""

from __future__ import annotations

import fcntl
import functools
import gzip
import hashlib
import os
import shutil
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..model import ObjectScope
from .current import Changes, ObjectReader, changes_at, clock_instants

FORMAT_VERSION = "2"  # part of every generation key: bump when a writer's output changes
KEEP_OLD_S = 600  # earlier generations' files stay this long for requests still streaming them
_MEMO = 512


@dataclass(frozen=True)
class Generation:
    scope_key: str
    key: str
    content_version: str
    newest_change_us: int | None  # the newest change (addition, removal) or start/expiry instant: Last-Modified
    directory: Path

    def etag(self, resource: str) -> str:
        return _etag(self.key, resource)


@functools.lru_cache(maxsize=4096)
def _etag(key: str, resource: str) -> str:
    tag = hashlib.sha256(f"{key}|{resource}".encode()).hexdigest()[:32]
    return f'"{tag}"'


def scope_key(scope: ObjectScope) -> str:
    who = "all" if not scope.partitioned else ("*" if scope.owner is None else "org:" + scope.owner)
    return _scope_key(scope.collection_id, who)


@functools.lru_cache(maxsize=4096)
def _scope_key(collection_id: str, who: str) -> str:
    return hashlib.sha256(f"{collection_id}|{who}".encode()).hexdigest()[:24]


class Snapshots:
    def __init__(self, root: Path, store: ObjectReader, clock: Callable[[], int]) -> None:
        self.root = root
        self.store = store
        self.clock = clock
        self._changes: OrderedDict[tuple[str, str], tuple[int, Changes]] = OrderedDict()
        self._generations: OrderedDict[tuple[object, ...], Generation] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn's threads share one Snapshots per worker

    def generation(self, scope: ObjectScope, content_version: str, exclusions_version: str,
                   changed_us: int | None) -> Generation:
        now = self.clock()
        skey = scope_key(scope)
        changes = self._clock_changes(scope, skey, content_version, now)
        memo = (skey, content_version, changes.previous_us, exclusions_version, changed_us)
        known = self._generations.get(memo)  # the common case: nothing changed since the last request
        if known is not None:
            return known
        key = hashlib.sha256(
            f"{FORMAT_VERSION}|{skey}|{content_version}|{changes.previous_us}|{exclusions_version}".encode()
        ).hexdigest()[:32]
        newest = max((t for t in (changed_us, changes.previous_us) if t is not None), default=None)
        gen = Generation(skey, key, content_version, newest, self.root / skey / key)
        with self._lock:
            self._generations[memo] = gen
            while len(self._generations) > _MEMO:
                self._generations.popitem(last=False)
        return gen

    def _clock_changes(self, scope: ObjectScope, skey: str, content_version: str, now: int) -> Changes:
        """From memory while `now` is inside the window computed last; else from the scope's instants, read
        once per content version on this machine (kept beside its generations, built under a file lock:
        concurrent requests, threads and workers alike, wait for one reading of the scope)."""
        memo_key = (skey, content_version)
        with self._lock:
            known = self._changes.get(memo_key)
            if known is not None:
                computed_at, changes = known
                if computed_at <= now and (changes.next_us is None or now < changes.next_us):
                    self._changes.move_to_end(memo_key)
                    return changes
        changes = changes_at(self._instants(scope, skey, content_version), now)
        with self._lock:
            self._changes[memo_key] = (now, changes)
            while len(self._changes) > _MEMO:
                self._changes.popitem(last=False)
        return changes

    def _instants(self, scope: ObjectScope, skey: str, content_version: str) -> array[int]:
        directory = self.root / skey
        name = "clock-" + hashlib.sha256(f"{FORMAT_VERSION}|{content_version}".encode()).hexdigest()[:24]
        path = directory / name

        def present(p: Path) -> bool:
            return p.is_file()

        if not present(path):
            directory.mkdir(parents=True, exist_ok=True)
            with _locked(directory / f".{name}.lock"):
                if not present(path):
                    temporary = directory / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
                    temporary.write_bytes(array("q", clock_instants(self.store, scope)).tobytes())
                    os.replace(temporary, path)
        found = array("q")
        try:
            found.frombytes(path.read_bytes())
            os.utime(path)  # in use: not retired with the older generations
        except OSError:  # retired meanwhile: read the scope here
            return array("q", clock_instants(self.store, scope))
        return found

    def file(self, gen: Generation, name: str, build: Callable[[IO[bytes]], object]) -> Path:
        """The generation's file `name`, built by `build` into a stream when it is not there yet."""

        def make(temporary: Path) -> None:
            with temporary.open("wb") as out:
                entries = build(out)
            if isinstance(entries, int):  # how many entries the file holds, for the poll history
                (gen.directory / f".{name}.n").write_text(str(entries))

        return self._once(gen, name, Path.exists, make)

    def directory(self, gen: Generation, name: str, build: Callable[[Path], object]) -> Path:
        """A generation's directory of files (the MISP feed), built by `build` into an empty directory."""

        def make(temporary: Path) -> None:
            shutil.rmtree(temporary, ignore_errors=True)
            temporary.mkdir()
            build(temporary)

        return self._once(gen, name, Path.is_dir, make)

    def _once(self, gen: Generation, name: str, present: Callable[[Path], bool],
              make: Callable[[Path], None]) -> Path:
        """Build `name` once per generation: under a file lock, into a temporary, then renamed into place."""
        path = gen.directory / name
        if present(path):
            return path
        gen.directory.mkdir(parents=True, exist_ok=True)
        with _locked(gen.directory / f".{name}.lock"):
            if not present(path):
                temporary = gen.directory / f".{name}.{os.getpid()}.tmp"
                make(temporary)
                os.replace(temporary, path)
                self._retire_older(gen)
        return path

    def gzipped(self, path: Path) -> Path:
        """A gzip copy of a built file, made once beside it."""
        target = path.with_name(path.name + ".gz")
        if target.exists():
            return target
        with _locked(path.with_name(f".{path.name}.gz.lock")):
            if not target.exists():
                temporary = path.with_name(f".{path.name}.gz.{os.getpid()}.tmp")
                with path.open("rb") as source, gzip.GzipFile(temporary, "wb", compresslevel=6, mtime=0) as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                os.replace(temporary, target)
        return target

    def _retire_older(self, gen: Generation) -> None:
        """Remove the scope's other generations (and clock files) not touched for KEEP_OLD_S (best effort)."""
        cutoff = time.time() - KEEP_OLD_S
        for other in gen.directory.parent.iterdir():
            try:
                if other == gen.directory or other.name.startswith(".") or other.stat().st_mtime >= cutoff:
                    continue
                if other.is_dir():
                    shutil.rmtree(other, ignore_errors=True)
                else:
                    other.unlink()
            except OSError:
                continue


class _locked:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
