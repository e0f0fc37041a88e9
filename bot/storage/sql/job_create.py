"""Storing a new job, in the database or inside a transaction."""

from __future__ import annotations

import json

from bot.storage.interfaces import Statements
from bot.storage.jobs import JobRecord, JobState, Lease, NewJob


async def insert_job(
    source: Statements, job: NewJob, *, now: float, lease: Lease | None = None
) -> JobRecord:
    """Store a new job, QUEUED (held by `lease`'s owner, if given), in the database or in a
    transaction."""
    options = dict(job.options)
    job_id = await source.insert(
        "INSERT INTO jobs (kind, provider, user_id, chat_id, chat_type, request_message_id,"
        " prompt, options, input_file_id, credential_source, language, state,"
        " created_at, updated_at, parent_id, thread_id, inline_message_id, owner, lease_until)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            None if lease is None else lease.owner,
            0.0 if lease is None else lease.until,
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
