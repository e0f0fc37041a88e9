"""How a selected jobs row becomes a JobRecord."""

from __future__ import annotations

import json

from bot.storage.interfaces import Row
from bot.storage.jobs import UNFINISHED, JobKind, JobRecord, JobState

COLUMNS = (
    "id, kind, provider, user_id, chat_id, chat_type, request_message_id, status_message_id,"
    " prompt, options, input_file_id, credential_source, language, task_id, state, attempts,"
    " error, result_text, result_path, result_mime, result_message_id, document_file_id,"
    " created_at, updated_at, started_at, finished_at, parent_id, remote_id, thread_id,"
    " inline_message_id, result_file_id"
)
"""The columns a JobRecord is made of, in a SELECT or a RETURNING clause."""


def placeholders(count: int) -> str:
    """`count` "?" placeholders, comma-separated, for an `IN (...)`."""
    return ", ".join("?" * count)


UNFINISHED_VALUES = tuple(sorted(state.value for state in UNFINISHED))
UNFINISHED_IN = placeholders(len(UNFINISHED_VALUES))
"""Placeholders for UNFINISHED_VALUES in an `IN (...)`."""


def job_record(row: Row) -> JobRecord:
    """The record of one selected row."""
    options = json.loads(row["options"])
    return JobRecord(
        id=row["id"],
        kind=JobKind(row["kind"]),
        provider=row["provider"],
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        chat_type=row["chat_type"],
        request_message_id=row["request_message_id"],
        status_message_id=row["status_message_id"],
        prompt=row["prompt"],
        options={k: v for k, v in options.items() if isinstance(v, str)},
        input_file_id=row["input_file_id"],
        credential_source=row["credential_source"],
        language=row["language"],
        task_id=row["task_id"],
        state=JobState(row["state"]),
        attempts=row["attempts"],
        error=row["error"],
        result_text=row["result_text"],
        result_path=row["result_path"],
        result_mime=row["result_mime"],
        result_message_id=row["result_message_id"],
        document_file_id=row["document_file_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        parent_id=row["parent_id"],
        remote_id=row["remote_id"],
        thread_id=row["thread_id"],
        inline_message_id=row["inline_message_id"],
        result_file_id=row["result_file_id"],
    )
