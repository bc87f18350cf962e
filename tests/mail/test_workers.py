"""`bookly worker` processes: many share the outbox, each email goes out exactly once."""

from collections import Counter
from pathlib import Path

from bookly.mail.messages import MailTemplate
from bookly.mail.outbox import enqueue
from tests.conftest import Harness
from tests.support.mail import SmtpServer, outbox_rows
from tests.support.processes import Process, process_env

EMAILS = 200


async def test_two_workers_deliver_200_queued_emails_exactly_once_and_stop_on_sigterm(
    harness: Harness, smtp: SmtpServer, database_url: str, tmp_path: Path
) -> None:
    env = process_env(database_url, smtp.port, OUTBOX_BATCH_SIZE="10")
    workers = [await Process.start(["worker"], env, tmp_path, f"worker-{n}") for n in range(2)]
    try:
        for worker in workers:
            await worker.wait_for_output("Bookly worker started")

        context = harness.context
        async with context.sessionmaker.begin() as db:
            for n in range(EMAILS):
                enqueue(
                    context,
                    db,
                    MailTemplate.RESET_PASSWORD,
                    f"reader{n}@example.com",
                    {
                        "first_name": f"Reader {n}",
                        "link": f"https://b.example/{n}",
                        "valid_for": "1 hour",
                    },
                )

        await smtp.wait_for(EMAILS, seconds=120)
    finally:
        statuses = [await worker.terminate() for worker in workers]
    assert statuses == [0, 0], [worker.output() for worker in workers]

    rows = await outbox_rows(harness.context)
    received = Counter(message["Message-ID"] for message in smtp.received())
    assert received == Counter({row.message_id: 1 for row in rows})  # each once, none extra
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}
    # Both workers took part: the outbox was shared, not drained by one of them alone.
    assert all(worker.output().count("Sent reset_password email") > 0 for worker in workers)
    assert all("Bookly worker stopped" in worker.output() for worker in workers)
