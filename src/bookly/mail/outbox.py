"""The transactional outbox: queue an email in the request's transaction; dispatchers claim due
messages, send them, and retry failures with exponential backoff until a message is dead.

Claims are leases: a claim moves `next_attempt_at` past the time the batch can take and counts
the attempt, then commits, so no transaction stays open during SMTP. On PostgreSQL the claim
skips rows another dispatcher is claiming (`FOR UPDATE SKIP LOCKED`); on SQLite the single
claiming UPDATE is atomic by itself. A dispatcher that dies mid-batch leaves its messages to be
retried when the lease ends; a message sent twice keeps its Message-ID, so it reads as one.
"""

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bookly.core.context import AppContext
from bookly.core.metrics import Metrics
from bookly.mail.messages import MailTemplate
from bookly.mail.sender import Delivery, Sender, create_sender
from bookly.models import OutboxMessage, OutboxStatus

logger = logging.getLogger("bookly.mail")

# The longest SMTP exchange: connect, EHLO, STARTTLS, login, send and quit, each timing out.
_SMTP_STEPS = 6


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def enqueue(
    context: AppContext,
    db: AsyncSession,
    template: MailTemplate,
    recipient: str,
    payload: dict[str, Any],
) -> OutboxMessage:
    """Queue an email in `db`'s transaction: it exists if and only if the transaction commits."""
    now = context.clock()
    message_uid = uuid.uuid4()
    domain = context.settings.mail_from.rsplit("@", 1)[1]
    row = OutboxMessage(
        id=message_uid,
        template=template,
        recipient=recipient,
        payload=payload,
        message_id=f"<{message_uid.hex}@{domain}>",
        next_attempt_at=now,
        created_at=now,
    )
    db.add(row)
    return row


class Dispatcher:
    """Sends due outbox messages; many may run at once, in one process or many."""

    def __init__(self, context: AppContext, sender: Sender | None = None):
        self._context = context
        self._settings = context.settings
        self._sender = sender or create_sender(context.settings)

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set; between batches, wait for the next poll."""
        while not stop.is_set():
            try:
                claimed = await self.dispatch_batch(stop)
            except Exception:
                # The database may be down for a while: keep going, the messages are safe.
                logger.exception("Outbox dispatch failed; trying again shortly")
                claimed = 0
            if claimed < self._settings.outbox_batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._settings.outbox_poll_seconds)

    async def dispatch_batch(self, stop: asyncio.Event | None = None) -> int:
        """Claim a batch of due messages and try each once; returns how many were claimed."""
        batch = await self._claim()
        pending = list(batch)
        if not pending:
            return 0
        try:
            async with self._sender.connect() as delivery:
                while pending:
                    if stop is not None and stop.is_set():
                        await self._release(pending)
                        pending.clear()
                    await self._dispatch(delivery, pending.pop(0))
        except Exception as error:
            # No connection (SMTP down, refused login): every message not yet tried failed.
            for row in pending:
                await self._failed(row, _describe(error))
        return len(batch)

    async def _claim(self) -> list[OutboxMessage]:
        now = self._context.clock()
        size = self._settings.outbox_batch_size
        lease = timedelta(seconds=self._settings.mail_timeout_seconds * _SMTP_STEPS * size)
        due = (
            select(col(OutboxMessage.id))
            .where(
                col(OutboxMessage.status) == OutboxStatus.QUEUED,
                col(OutboxMessage.next_attempt_at) <= now,
            )
            .order_by(col(OutboxMessage.next_attempt_at))
            .limit(size)
            .with_for_update(skip_locked=True)
        )
        async with self._context.sessionmaker.begin() as db:
            claimed = await db.scalars(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(due.scalar_subquery()))
                .values(attempts=col(OutboxMessage.attempts) + 1, next_attempt_at=now + lease)
                .returning(OutboxMessage)
                .execution_options(synchronize_session=False)
            )
            return list(claimed.all())

    async def _dispatch(self, delivery: Delivery, row: OutboxMessage) -> None:
        try:
            await delivery.send(row)
        except Exception as error:
            # Any failure (timeout, dropped connection, rejected recipient) is retried alike.
            await self._failed(row, _describe(error))
        else:
            # The payload holds live links; once delivered they need not stay in the database.
            await self._record(
                row, status=OutboxStatus.SENT, sent_at=self._context.clock(), payload={}
            )
            logger.info("Sent %s email %s to %s", row.template, row.message_id, row.recipient)

    async def _failed(self, row: OutboxMessage, error: str) -> None:
        settings = self._settings
        if row.attempts >= settings.outbox_max_attempts:
            await self._record(row, status=OutboxStatus.DEAD, last_error=error)
            logger.error(
                "Gave up on %s email %s to %s after %d attempts: %s",
                row.template,
                row.message_id,
                row.recipient,
                row.attempts,
                error,
            )
            return
        delay = min(
            settings.outbox_retry_base_seconds * 2 ** (row.attempts - 1),
            settings.outbox_retry_max_seconds,
        )
        retry_at = self._context.clock() + timedelta(seconds=delay)
        await self._record(row, next_attempt_at=retry_at, last_error=error)
        logger.warning(
            "Sending %s email %s to %s failed (attempt %d of %d), retrying at %s: %s",
            row.template,
            row.message_id,
            row.recipient,
            row.attempts,
            settings.outbox_max_attempts,
            retry_at.isoformat(),
            error,
        )

    async def _record(self, row: OutboxMessage, **values: object) -> None:
        async with self._context.sessionmaker.begin() as db:
            await db.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def _release(self, rows: list[OutboxMessage]) -> None:
        """Give back claimed messages not tried (shutting down): due now, attempt not counted."""
        async with self._context.sessionmaker.begin() as db:
            await db.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_([row.id for row in rows]))
                .values(
                    attempts=col(OutboxMessage.attempts) - 1,
                    next_attempt_at=self._context.clock(),
                )
                .execution_options(synchronize_session=False)
            )


def watch_outbox(metrics: Metrics) -> None:
    """Expose the backlog (queued, not yet sent) and the dead letters on /metrics."""
    for status, name, documentation in (
        (OutboxStatus.QUEUED, "bookly_outbox_backlog", "Emails queued and not yet sent."),
        (OutboxStatus.DEAD, "bookly_outbox_dead", "Emails given up on after their last attempt."),
    ):
        count = select(func.count()).select_from(OutboxMessage)
        metrics.watch_rows(name, documentation, count.where(col(OutboxMessage.status) == status))
