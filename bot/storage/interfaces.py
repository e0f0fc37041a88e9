"""What the bot asks of its storage, whichever database backs it (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from bot.storage.credits import CreditRecord
from bot.storage.jobs import FieldValue, JobCount, JobRecord, JobState, Lease, NewJob
from bot.storage.users import UserRecord
from services.codexaeternum import SessionTokenStore
from services.describepicture import QuotaStore

__all__ = [
    "Credentials",
    "Credits",
    "Database",
    "JobLeases",
    "JobLines",
    "Jobs",
    "QuotaStore",
    "Row",
    "SchemaTooNewError",
    "SessionTokenStore",
    "SqlDatabase",
    "Statements",
    "Users",
]

Params = Sequence[Any]


class SchemaTooNewError(Exception):
    """The database was written by a newer Iris than this one."""


class Database(Protocol):
    """The database as `check` and `/healthz` see it."""

    @property
    def where(self) -> str:
        """Where the data is, for people: a file path, or PostgreSQL's host, port and database."""

    @property
    def writes(self) -> int:
        """Committed statements that changed rows, for the benchmark's writes per job."""

    async def schema_version(self) -> int:
        """How many numbered migrations the database has."""

    async def check_writable(self) -> None:
        """Write a row and roll it back: raises when the database cannot be written."""

    async def close(self) -> None:
        """Close the database once running calls are done."""


class Row(Protocol):
    """A result row, by column name or position."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class Statements(Protocol):
    """SQL statements with `?` placeholders, run in the database or in one transaction."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement; the number of rows it changed."""

    async def insert(self, sql: str, params: Params) -> int:
        """Run one INSERT into a table with an `id` column; the new row's id."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""

    async def fetchall(self, sql: str, params: Params = ()) -> Sequence[Row]:
        """Every row of a query."""


class SqlDatabase(Database, Statements, Protocol):
    """A database the SQL repositories run on; each statement outside a transaction commits."""

    def transaction(self, key: str = "") -> AbstractAsyncContextManager[Statements]:
        """Statements that commit together, or not at all if the block raises.

        Transactions with one `key` run one at a time, so a read-then-write block is atomic
        against every block that touches the same rows under the same key: a user's rows under
        `user_lock`, a quota's under `quota_lock` (bot/storage/sql/locks.py), rows shared by
        everyone under the empty key.
        SQLite runs every transaction one at a time; PostgreSQL runs other keys' in parallel.
        """


class Users(Protocol):
    """Users: language, /settings preferences, reachability."""

    async def touch(self, user_id: int, *, telegram_language: str | None) -> UserRecord:
        """The user, created if new; writes only when something changed."""

    async def get(self, user_id: int) -> UserRecord | None:
        """The user, or None if never seen."""

    async def set_language(self, user_id: int, language: str | None) -> None:
        """Store the user's explicit language choice; None goes back to Telegram's."""

    async def set_preference(self, user_id: int, name: str, value: str | None) -> None:
        """Set one /settings preference; None removes it."""

    async def set_active(self, user_id: int, active: bool) -> None:
        """Mark whether the bot can reach the user."""

    async def count(self) -> int:
        """How many users the bot has seen."""


class Credentials(Protocol):
    """Users' provider credentials, stored encrypted."""

    async def put(self, user_id: int, provider: str, parts: Sequence[str], *, masked: str) -> None:
        """Store (or replace) the user's credential for `provider`."""

    async def get(self, user_id: int, provider: str) -> tuple[str, ...] | None:
        """The stored parts, or None if there are none or they no longer decrypt."""

    async def masked(self, user_id: int) -> dict[str, str]:
        """Provider → masked form of each credential the user stored."""

    async def delete(self, user_id: int, provider: str) -> bool:
        """Forget the user's credential for `provider`; False if there was none."""


class Credits(Protocol):
    """The last credits each provider reported, per owner."""

    async def record(self, owner_id: int, provider: str, credits: int) -> None:
        """Keep the latest credits a provider reported for this owner."""

    async def forget(self, owner_id: int, provider: str) -> None:
        """Drop what is known of this owner's credits with this provider."""

    async def for_owner(self, owner_id: int) -> dict[str, CreditRecord]:
        """Every provider's last known credits for this owner."""


class Jobs(Protocol):
    """Generation and describe jobs, and the messages they delivered."""

    async def create(self, job: NewJob, *, now: float, lease: Lease | None = None) -> JobRecord:
        """Store a new job, QUEUED (held by `lease`'s owner until it passes, if given)."""

    async def create_within_limit(
        self, job: NewJob, *, now: float, since: float, limit: int, lease: Lease | None = None
    ) -> JobRecord | None:
        """Store a new job unless its user has `limit` operator jobs since `since` (None).

        Counted and stored atomically, whichever process asks.
        """

    async def get(self, job_id: int) -> JobRecord | None:
        """The job, or None."""

    async def set_status_message(self, job_id: int, message_id: int) -> None:
        """Remember the message that shows the job's progress."""

    async def set_result_message(self, job_id: int, message_id: int) -> None:
        """Remember the message that told the job's outcome."""

    async def set_document_file_id(self, job_id: int, file_id: str) -> None:
        """Remember the Telegram file id of the original sent as a document."""

    async def transition(
        self,
        job_id: int,
        *,
        to: JobState,
        expect: Collection[JobState] | None = None,
        now: float,
        owner: str | None = None,
        **fields: FieldValue,
    ) -> bool:
        """Atomically move the job to `to` if it is in one of `expect` (default: unfinished),
        and, with `owner`, only while that instance holds it."""

    async def set_result_file_id(self, job_id: int, file_id: str) -> None:
        """Remember the Telegram file id of the delivered result photo, to share it inline."""

    async def for_inline_message(self, inline_message_id: str) -> JobRecord | None:
        """The latest job shown in this inline message, if any."""

    async def shareable(
        self, user_id: int, *, words: Sequence[str], limit: int, offset: int
    ) -> list[JobRecord]:
        """The user's delivered result photos whose prompts hold every word, newest first."""

    async def for_request(self, chat_id: int, message_id: int) -> JobRecord | None:
        """The first job a user's message started, if any."""

    async def add_message(self, job_id: int, *, chat_id: int, message_id: int) -> None:
        """Remember a message the job delivered."""

    async def by_message(self, chat_id: int, message_id: int) -> JobRecord | None:
        """The job that delivered this message, if any."""

    async def thread(self, job_id: int) -> list[JobRecord]:
        """The job and the jobs it follows up, first question first."""

    async def operator_jobs(self, user_id: int, *, since: float) -> int:
        """Jobs of this user on the operator's keys since `since` that reached a provider."""

    async def users_since(self, since: float) -> int:
        """How many users started a job since `since`."""

    async def counts(self, *, since: float | None = None) -> list[JobCount]:
        """Jobs per provider, kind and state, created since `since` (all time when None)."""

    async def unfinished(self) -> list[JobRecord]:
        """Every unfinished job, oldest first."""

    async def recent_durations(self, provider: str, *, limit: int) -> list[float]:
        """Seconds from submit to result of the provider's latest `limit` results."""

    async def duration(self, job_id: int) -> float | None:
        """Seconds from the job's submit to its result, once its result was found."""

    async def active_for_user(self, user_id: int) -> list[JobRecord]:
        """The user's unfinished jobs, oldest first."""


class JobLeases(Protocol):
    """Which instance runs which job: claimed by lease, renewed while running, let go at stop."""

    async def claim(self, lease: Lease, *, now: float, limit: int) -> list[JobRecord]:
        """Take up to `limit` unfinished jobs whose lease has passed, oldest first."""

    async def renew(self, lease: Lease) -> set[int]:
        """Extend the lease on every unfinished job the owner holds; their ids."""

    async def gone(self, owner: str, job_ids: Collection[int]) -> set[int]:
        """Of these jobs, the ones the owner must stop: cancelled, or resumed by another."""

    async def release(self, owner: str) -> int:
        """Let go of every unfinished job the owner holds."""

    async def claim_untold(self, lease: Lease, *, now: float, since: float) -> list[JobRecord]:
        """Take the interrupted jobs since `since` whose users were not told yet."""


class JobLines(Protocol):
    """Each user's jobs in line for USER_MAX_JOBS slots, across every instance."""

    async def admit(self, job: JobRecord, *, slots: int) -> bool:
        """True when the job holds one of its user's `slots`; False while it must wait."""

    async def place(self, job: JobRecord) -> int | None:
        """The job's place among its user's waiting jobs (1 = next); None once it no longer
        waits."""

    async def waiting(self) -> int:
        """Jobs waiting for a slot of their user, across the whole bot."""
