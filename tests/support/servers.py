"""Running the installed `presszero` as a user would, and reading what Redis holds."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from presszero.context.store import ContextStore

PRESSZERO = str(Path(sys.executable).with_name("presszero"))


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz") as reply:
                if json.load(reply)["status"] == "ok":
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.2)


def always_open(tmp_path: Path) -> Path:
    """Return a copy of the shipped flows whose line never closes (tests at any hour)."""
    from presszero.flows.language.files import library_dir

    source = (library_dir() / "support.yaml").read_text()
    start = source.index("hours:")
    end = source.index("greeting:")
    hours = ('hours:\n  timezone: America/New_York\n'
             '  open: {mon-sun: "00:00-24:00"}\n  after_hours: callback\n\n')  # fmt: skip
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "support.yaml").write_text(source[:start] + hours + source[end:])
    return folder


def contents(store: ContextStore, key: bytes) -> bytes:
    """Return everything stored under `key`, uncompressed, as bytes to search."""
    r = store.redis
    kind = r.type(key)
    value: Any = {
        b"string": lambda: r.get(key),
        b"list": lambda: r.lrange(key, 0, -1),
        b"hash": lambda: r.hgetall(key),
        b"set": lambda: r.smembers(key),
        b"zset": lambda: r.zrange(key, 0, -1),
        b"stream": lambda: r.xrange(key),
    }[kind]()
    return repr(value).encode()
