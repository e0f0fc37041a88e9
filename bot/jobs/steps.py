"""The provider side of a job: credential, paid call, polling, the result kept.

Each step is recorded in the job's row before the next one starts, so a restart at any point
resumes without paying twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

from bot.error_texts import error_code
from bot.imaging import ImageWorkers
from bot.jobs.durations import ProviderDurations
from bot.jobs.files import JobFiles
from bot.jobs.limits import Limits
from bot.jobs.texts import resized_notice
from bot.jobs.timing import Timing
from bot.keychain import KeyChain, ResolvedCredential
from bot.storage import Storage
from bot.storage.credits import OPERATOR
from bot.storage.jobs import JobRecord, JobState
from services.base import GeneratedImage, ImageGenerator, Turn
from services.exceptions import (
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
    UnexpectedResponseError,
)
from services.registry import Providers

logger = logging.getLogger(__name__)

UNREADABLE_POLLS = 3
"""Unreadable poll answers in a row that end a job: one may be a proxy's hiccup, three are not."""

PaidCall = Callable[[JobRecord], AbstractAsyncContextManager[None]]
"""Wraps a paid call and the recording of its outcome, which a graceful stop waits for."""


class NoCredentialError(Exception):
    """Neither the user nor the operator has a credential for the job's provider."""


class JobSteps:
    """Takes a stored job to the point where its result is kept (state DELIVERING)."""

    def __init__(
        self,
        *,
        owner: str,
        storage: Storage,
        providers: Providers,
        keychain: KeyChain,
        files: JobFiles,
        images: ImageWorkers,
        limits: Limits,
        timing: Timing,
        stopping: asyncio.Event,
        paid_call: PaidCall,
        durations: ProviderDurations,
    ) -> None:
        self._owner = owner
        self._jobs = storage.jobs
        self._credits = storage.credits
        self._providers = providers
        self._keychain = keychain
        self._files = files
        self._images = images
        self._limits = limits
        self._timing = timing
        self._stopping = stopping
        self._paid_call = paid_call
        self._durations = durations

    async def generate(self, job: JobRecord) -> JobRecord | None:
        """The job with its image kept; None when stopped or cancelled on the way."""
        generator = self._providers.generators[job.provider]
        if job.state is JobState.DELIVERING and await self._files.has_result(job):
            return job
        resolved = await self._credential(job)
        if job.task_id is None:
            if self._stopping.is_set() or not await self._to(
                job, JobState.SUBMITTING, expect=(JobState.QUEUED,), started=True
            ):
                return None
            async with self._paid_call(job):
                async with self._limits.provider(job.provider, resolved.credential):
                    try:
                        submission = await generator.submit(
                            resolved.credential, prompt=job.prompt, options=job.options
                        )
                    except UnexpectedResponseError as e:
                        # It answered, but not readably: whether it took the job is unknown.
                        raise OutcomeUnknownError(
                            "the answer to a paid call could not be read", provider=job.provider
                        ) from e
                logger.info("%s task %s", job.provider, submission.task_id)
                await self._record_credits(job, resolved, submission.credits)
                if not await self._to(
                    job,
                    JobState.POLLING,
                    expect=(JobState.SUBMITTING,),
                    task_id=submission.task_id,
                ):
                    return None  # cancelled while the provider accepted it: the result is dropped
            if self._stopping.is_set():
                return None  # the task id is stored: the next start polls on
            job = replace(job, task_id=submission.task_id, state=JobState.POLLING)
        image = await self._poll(job, generator, resolved)
        credits = image.credits
        stored = await self._files.write_result(job, image)
        # The store holds the bytes now: results waiting for the database must not hold them too.
        del image
        await self._record_credits(job, resolved, credits)
        # Also from delivering: a restart found the job's kept result gone, so it was fetched again.
        if not await self._to(
            job,
            JobState.DELIVERING,
            expect=(JobState.POLLING, JobState.DELIVERING),
            result_at=time.time(),
            result_path=stored.file_name,
            result_mime=stored.mime_type,
            remote_id=stored.remote_id,
        ):
            return None
        if job.state is JobState.POLLING:  # not a kept result fetched again after a restart
            await self._durations.learn(job.provider, job.id)
        return replace(
            job,
            state=JobState.DELIVERING,
            result_path=stored.file_name,
            result_mime=stored.mime_type,
            remote_id=stored.remote_id,
        )

    async def describe(self, job: JobRecord) -> tuple[JobRecord, str | None] | None:
        """The job with its answer stored, and a notice to show with it; None when stopped or
        cancelled on the way."""
        if job.state is JobState.DELIVERING and job.result_text is not None:
            return job, None
        describer = self._providers.describers[job.provider]
        resolved = await self._credential(job)
        conversation = await self._conversation(job)
        assert job.input_file_id is not None
        # Handed to the provider's client, not kept here: the client holds the photo only until
        # its request body is built (a thousand describe jobs in flight, a thousand photos).
        photo = [await self._files.download_input(job.input_file_id)]
        # Not an image: refused before the job counts as started (or against any limit).
        await self._images.inspect(photo[0])
        if self._stopping.is_set() or not await self._to(
            job, JobState.SUBMITTING, expect=(JobState.QUEUED,), started=True
        ):
            return None
        async with self._paid_call(job):
            async with self._limits.provider(job.provider, resolved.credential):
                description = await describer.describe(
                    resolved.credential, image=photo.pop(), conversation=conversation
                )
            await self._record_credits(job, resolved, description.credits)
            if not await self._to(
                job,
                JobState.DELIVERING,
                expect=(JobState.SUBMITTING,),
                result_text=description.text,
            ):
                return None
        if self._stopping.is_set():
            return None  # the answer is stored: the next start delivers it without paying again
        notice = resized_notice(job.provider) if description.image_resized else None
        return replace(job, state=JobState.DELIVERING, result_text=description.text), notice

    async def _poll(
        self, job: JobRecord, generator: ImageGenerator[Any], resolved: ResolvedCredential
    ) -> GeneratedImage:
        assert job.task_id is not None
        unreadable = 0
        # A fresh job was submitted just now; a resumed one may have been long ago.
        elapsed = 0.0 if job.started_at is None else time.time() - job.started_at
        usual = self._durations.usual(job.provider)
        for delay in self._timing.poll_schedule(usual, elapsed=elapsed):
            await asyncio.sleep(delay)
            try:
                async with self._limits.provider(job.provider, resolved.credential):
                    result = await generator.poll(resolved.credential, task_id=job.task_id)
            except (UnavailableError, RateLimitedError) as e:
                # The job is paid for; a passing outage must not lose it. The deadline bounds this.
                logger.info("poll failed (%s); polling on", error_code(e))
                continue
            except UnexpectedResponseError:
                unreadable += 1
                if unreadable >= UNREADABLE_POLLS:
                    raise
                logger.info("poll answer unreadable; polling on")
                continue
            unreadable = 0
            if isinstance(result, GeneratedImage):
                return result
        raise AssertionError("unreachable: the schedule never ends")  # pragma: no cover

    async def _conversation(self, job: JobRecord) -> list[Turn]:
        """The questions and answers about this photo so far, ending with this question."""
        turns: list[Turn] = []
        if job.parent_id is not None:
            for earlier in await self._jobs.thread(job.parent_id):
                if earlier.result_text:  # a question that got no answer is left out
                    turns += [Turn("user", earlier.prompt), Turn("model", earlier.result_text)]
        return [*turns, Turn("user", job.prompt)]

    async def _record_credits(
        self, job: JobRecord, resolved: ResolvedCredential, credits: int | None
    ) -> None:
        if credits is None:
            return
        owner = job.user_id if resolved.source == "own" else OPERATOR
        await self._credits.record(owner, job.provider, credits)

    async def _credential(self, job: JobRecord) -> ResolvedCredential:
        resolved = await self._keychain.resolve(job.user_id, job.provider)
        if resolved is None:
            raise NoCredentialError(job.provider)
        return resolved

    async def _to(
        self,
        job: JobRecord,
        state: JobState,
        *,
        expect: tuple[JobState, ...],
        started: bool = False,
        **fields: str | int | float | None,
    ) -> bool:
        now = time.time()
        if started:  # a provider call is about to be made
            fields["started_at"] = now
            fields["attempts"] = job.attempts + 1
        return await self._jobs.transition(
            job.id, to=state, expect=expect, now=now, owner=self._owner, **fields
        )
