"""Storing a new job, and counting a user's jobs on the operator's keys."""

from __future__ import annotations

import json

from bot.storage.interfaces import Statements
from bot.storage.jobs import UNFINISHED, JobRecord, JobState, NewJob

UNFINISHED_VALUES = tuple(sorted(state.value for state in UNFINISHED))
UNFINISHED_IN = ", ".join("?" * len(UNFINISHED_VALUES))
"""Unfinished states, and as many placeholders, for `state IN (…)`."""


async def insert_job(source: Statements, job: NewJob, *, now: float) -> JobRecord:
    """Store a new job, QUEUED, in the database or in a transaction."""
    options = dict(job.options)
    job_id = await source.insert(
        "INSERT INTO jobs (kind, provider, user_id, chat_id, chat_type, request_message_id,"
        " prompt, options, input_file_id, credential_source, language, state,"
        " created_at, updated_at, parent_id, thread_id, inline_message_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            job.kind.value,
            job.provider,
            job.user_id,
            job.chat_id,
            job.chat_type,
            job.request_message_id,
            job.prompt,
            json.dumps(options, sort_keys=True),
            job.input_file_id,
            job.credential_source,
            job.language,
            JobState.QUEUED.value,
            now,
            now,
            job.parent_id,
            job.thread_id,
            job.inline_message_id,
        ),
    )
    return JobRecord(
        id=job_id,
        kind=job.kind,
        provider=job.provider,
        user_id=job.user_id,
        chat_id=job.chat_id,
        chat_type=job.chat_type,
        request_message_id=job.request_message_id,
        status_message_id=None,
        prompt=job.prompt,
        options=options,
        input_file_id=job.input_file_id,
        credential_source=job.credential_source,
        language=job.language,
        task_id=None,
        state=JobState.QUEUED,
        attempts=0,
        error=None,
        result_text=None,
        result_path=None,
        result_mime=None,
        result_message_id=None,
        document_file_id=None,
        created_at=now,
        updated_at=now,
        started_at=None,
        finished_at=None,
        parent_id=job.parent_id,
        remote_id=None,
        thread_id=job.thread_id,
        inline_message_id=job.inline_message_id,
    )


async def count_operator_jobs(source: Statements, user_id: int, *, since: float) -> int:
    """Jobs of this user on the operator's keys since `since` that reached (or may still
    reach) a provider: ones refused or cancelled before any call do not count."""
    row = await source.fetchone(
        "SELECT COUNT(*) AS n FROM jobs"  # noqa: S608 - placeholders only
        " WHERE user_id = ? AND credential_source = 'operator' AND created_at >= ?"
        f" AND (started_at IS NOT NULL OR state IN ({UNFINISHED_IN}))",
        (user_id, since, *UNFINISHED_VALUES),
    )
    return int(row["n"]) if row is not None else 0
