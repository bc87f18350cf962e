"""Running the dispatcher: as `bookly worker` (until SIGTERM), or inside the API process."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from bookly.core.context import AppContext
from bookly.mail.outbox import Dispatcher

logger = logging.getLogger("bookly.mail")


async def run_worker(context: AppContext) -> None:
    """Send queued emails until SIGTERM or SIGINT; the message being sent is finished first."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    settings = context.settings
    via = f"SMTP {settings.mail_server}:{settings.mail_port}" if settings.mail_server else None
    logger.info("Bookly worker started, sending via %s", via or f"files in {settings.mail_dir}")
    try:
        await Dispatcher(context).run(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        if context.redis is not None:
            await context.redis.aclose()
        await context.engine.dispose()
    logger.info("Bookly worker stopped")


@contextlib.asynccontextmanager
async def drain_in_process(context: AppContext) -> AsyncIterator[None]:
    """The embedded default: the API process sends its own emails, unless workers do
    (`OUTBOX_DRAIN_IN_PROCESS=false`)."""
    if not context.settings.outbox_drain_in_process:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(Dispatcher(context).run(stop), name="bookly-outbox")
    try:
        yield
    finally:
        stop.set()
        await task
