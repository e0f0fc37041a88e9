"""Generation and describe jobs as stored: kinds, states, a new job's request and the record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class JobKind(StrEnum):
    """What a job asks of its provider."""

    GENERATE = "generate"
    DESCRIBE = "describe"


class JobState(StrEnum):
    """Where a job is; see UNFINISHED and TERMINAL."""

    QUEUED = "queued"
    SUBMITTING = "submitting"
    """A paid call may be in flight and no task id is known: never re-sent after a restart."""
    POLLING = "polling"
    """The provider's task id is stored: polling can resume after a restart."""
    DELIVERING = "delivering"
    """The result is obtained (stored in result_*) and being sent."""
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    TIMED_OUT = "timed_out"


UNFINISHED = frozenset(
    {JobState.QUEUED, JobState.SUBMITTING, JobState.POLLING, JobState.DELIVERING}
)
TERMINAL = frozenset(JobState) - UNFINISHED

SEARCHED_RESULTS = 1000
"""A user's latest result photos an inline search looks through."""
FieldValue = str | int | float | None
"""A value `Jobs.transition` may write to a column."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewJob:
    """What a handler knows when it asks for a job."""

    kind: JobKind
    provider: str
    user_id: int
    chat_id: int
    chat_type: str
    request_message_id: int | None = None
    prompt: str
    options: Mapping[str, str] = field(default_factory=dict)
    input_file_id: str | None = None
    credential_source: str
    """own | operator: whose credential pays."""
    language: str
    parent_id: int | None = None
    """The describe job this one follows up (a reply to its answer)."""
    thread_id: int | None = None
    """The forum topic the request came from: every message about the job goes there."""
    inline_message_id: str | None = None
    """Inline mode: the one message, in a chat the bot may not be in, that shows the job."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRecord:
    """One job as stored."""

    id: int
    kind: JobKind
    provider: str
    user_id: int
    chat_id: int
    chat_type: str
    request_message_id: int | None
    status_message_id: int | None
    prompt: str
    options: dict[str, str]
    input_file_id: str | None
    credential_source: str
    language: str
    task_id: str | None
    state: JobState
    attempts: int
    error: str | None
    result_text: str | None
    result_path: str | None
    result_mime: str | None
    result_message_id: int | None
    document_file_id: str | None
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None
    parent_id: int | None = None
    remote_id: str | None = None
    """The provider's own id of the result (an AiLuna image), for actions on it."""
    thread_id: int | None = None
    """The forum topic the request came from."""
    inline_message_id: str | None = None
    """Inline mode: the message that shows the job (chat_id is then the user's own id)."""
    result_file_id: str | None = None
    """The Telegram file id of the delivered result photo."""

    def again(self, *, language: str, options: Mapping[str, str] | None = None) -> NewJob:
        """A new job asking the same of the same provider (with other options, if given)."""
        return NewJob(
            kind=self.kind,
            provider=self.provider,
            user_id=self.user_id,
            chat_id=self.chat_id,
            chat_type=self.chat_type,
            request_message_id=self.request_message_id,
            prompt=self.prompt,
            options=dict(self.options if options is None else options),
            input_file_id=self.input_file_id,
            credential_source=self.credential_source,
            language=language,
            parent_id=self.parent_id,
            thread_id=self.thread_id,
            inline_message_id=self.inline_message_id,
        )


@dataclass(frozen=True, slots=True)
class Lease:
    """An instance's hold on its jobs: theirs alone until `until` (epoch seconds) passes."""

    owner: str
    until: float


@dataclass(frozen=True, slots=True)
class JobCount:
    """How many jobs of one provider, kind and state."""

    provider: str
    kind: str
    state: str
    count: int
