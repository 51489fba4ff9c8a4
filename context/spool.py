"""What could not be written to Redis, kept on local disk until it can be.

A call's status callback that arrives while Redis is down must not lose the contact record,
and Twilio does not send it again. So it is appended (and fsynced) to a JSONL file in the
data dir, and replayed when Redis answers again. Recording is idempotent by CallSid, so a
replay that is interrupted and run again counts nothing twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class Spool:
    """An append-only file of JSON entries, shared safely by the workers of one machine."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(self, entry: dict[str, Any]) -> None:
        """Keep an entry on disk (fsynced before returning)."""
        with self._locked(), open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def pending(self) -> bool:
        return self.path.exists()

    def replay(self, record: Callable[[dict[str, Any]], None]) -> int:
        """Pass every kept entry to `record`; keep the ones it fails on. Return how many went."""
        if not self.pending():
            return 0
        with self._locked():
            try:
                lines = self.path.read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                return 0
            done = 0
            for index, line in enumerate(lines):
                try:
                    record(json.loads(line))
                except json.JSONDecodeError:
                    done += 1  # a torn line from a crash: nothing to recover from it
                    continue
                except Exception:
                    self._rewrite(lines[index:])
                    return done
                done += 1
            self.path.unlink()
            return done

    def _rewrite(self, lines: list[str]) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        os.replace(temporary, self.path)
