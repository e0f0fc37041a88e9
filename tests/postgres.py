"""A throwaway PostgreSQL server for the tests: `initdb` into a temporary folder, one server per
test process (xdist worker), a fresh database per test."""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg

SUPERUSER = "iris"
MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
    "/usr/lib/postgresql/*/bin: install them (apt-get install postgresql; .ci/run does)"
)
START_ATTEMPTS = 3
"""A free port found may be taken before the server binds it: then another is tried."""
# Durability is worth nothing in a database thrown away after the tests.
_FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"


def server_binaries() -> Path:
    """The folder holding initdb and pg_ctl; RuntimeError saying how to install them if none."""
    on_path = shutil.which("initdb")
    folders = [Path(on_path).resolve().parent] if on_path else []
    folders += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True)
    for folder in folders:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise RuntimeError(MISSING)


def _version(folder: Path) -> int:
    name = folder.parent.name
    return int(name) if name.isdigit() else 0


def _run_as() -> tuple[list[str], str | None]:
    """The command prefix and user that run the server: initdb refuses to run as root."""
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"], user
    raise RuntimeError("running as root, and neither a postgres nor a nobody user exists")


def free_port() -> int:
    """A TCP port on 127.0.0.1 free now (another process may take it before it is bound)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only."""

    def __init__(self) -> None:
        self._bin = server_binaries()
        self._prefix, user = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="iris-pg-"))
        if user is not None:
            shutil.chown(self.root, user=user)
        self._data = self.root / "data"
        self._log = self.root / "server.log"
        self.port = 0
        self._names = itertools.count(1)

    def start(self) -> None:
        """initdb, then pg_ctl start, which returns once the server accepts connections."""
        self._run(
            "initdb", "-D", str(self._data), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} {_FAST}"
            try:
                self._run(
                    "pg_ctl", "start", "-D", str(self._data), "-l", str(self._log),
                    "-w", "-t", "60", "-s", "-o", options,
                )  # fmt: skip
                return
            except RuntimeError:
                if attempt == START_ATTEMPTS:
                    raise

    def stop(self) -> None:
        """Stop the server at once and delete its folder."""
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "stop", "-D", str(self._data), "-m", "immediate", "-w", "-s")
        shutil.rmtree(self.root, ignore_errors=True)

    def pid(self) -> int:
        """The server's main process (its backends are its children)."""
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def url(self, database: str) -> str:
        """The DATABASE_URL of one database of this server."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    async def create_database(self) -> str:
        """A new empty database; its URL."""
        name = f"test_{next(self._names)}"
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)

    def _run(self, program: str, *args: str) -> None:
        command = [*self._prefix, str(self._bin / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self._log.read_text(errors="replace")[-2000:] if self._log.exists() else ""
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{log}".strip()
            )


async def table_contents(url: str) -> bytes:
    """Every value of every table, bytea as its raw bytes: what a dump of the data would hold."""
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        values: list[bytes] = []
        for table in tables:
            for row in await conn.fetch(f'SELECT * FROM "{table["table_name"]}"'):  # noqa: S608
                values += [v if isinstance(v, bytes) else str(v).encode() for v in row.values()]
    finally:
        await conn.close()
    return b"\n".join(values)


async def job_leases(url: str) -> dict[int, tuple[str, str | None, float]]:
    """Every job's state, owner and lease end, as stored now."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT id, state, owner, lease_until FROM jobs")
    finally:
        await conn.close()
    return {row["id"]: (row["state"], row["owner"], row["lease_until"]) for row in rows}
