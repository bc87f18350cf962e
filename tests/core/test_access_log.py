"""The access log loses no line: not under load (a writer thread writes the lines, batched) and not
at shutdown (SIGTERM right after a burst, to one process or to workers: the queue is written out
before the exit).
Against a real `bookly serve` at LOG_LEVEL=INFO, its production default; and the writer itself."""

import asyncio
import io
import json
import logging
import uuid
from collections import Counter
from typing import Any

import httpx

from bookly.core.logging import ACCESS_LOGGER, BackgroundStreamHandler, JsonFormatter
from tests.support.live import LiveServers
from tests.support.servers import LiveServer

BURST = 200
CONCURRENCY = 64
# Ample for a loaded CI machine: the writer writes every WRITE_DELAY_SECONDS (20 ms).
LINES_WITHIN_SECONDS = 30.0


def access_lines(server: LiveServer) -> Counter[str]:
    """How many access lines the server has written so far, per request id."""
    return Counter(
        entry["request_id"] for entry in log_entries(server) if entry["logger"] == ACCESS_LOGGER
    )


def log_entries(server: LiveServer) -> list[dict[str, Any]]:
    """The server's whole JSON lines (not the one being written, if any)."""
    text = server.log()
    whole = text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in whole.splitlines() if line.startswith("{")]


async def burst(server: LiveServer, request_ids: list[str]) -> set[int]:
    """GET /healthz once per request id, CONCURRENCY at a time: the statuses answered."""
    statuses = set()
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:

        async def one(request_id: str) -> None:
            response = await client.get("/healthz", headers={"X-Request-ID": request_id})
            assert response.headers["x-request-id"] == request_id
            statuses.add(response.status_code)

        await asyncio.gather(*(one(request_id) for request_id in request_ids))
    return statuses


async def test_every_request_under_load_gets_exactly_one_line(
    live_servers: LiveServers,
) -> None:
    server = live_servers.start()
    request_ids = [f"load-{uuid.uuid4().hex}" for _ in range(BURST)]

    assert await burst(server, request_ids) == {200}
    deadline = asyncio.get_running_loop().time() + LINES_WITHIN_SECONDS
    lines = access_lines(server)
    while not set(request_ids) <= lines.keys() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
        lines = access_lines(server)
    assert {request_id: lines[request_id] for request_id in request_ids} == dict.fromkeys(
        request_ids, 1
    )


async def test_sigterm_right_after_a_burst_loses_no_line(
    live_servers: LiveServers,
) -> None:
    server = live_servers.start()
    request_ids = [f"stop-{uuid.uuid4().hex}" for _ in range(BURST)]

    assert await burst(server, request_ids) == {200}
    server.terminate()
    assert await asyncio.to_thread(server.process.wait, 30) == 0

    lines = access_lines(server)
    assert {request_id: lines[request_id] for request_id in request_ids} == dict.fromkeys(
        request_ids, 1
    )
    # The lines logged last, a moment before the exit, were still queued for the writer: written
    # all the same, by the handler's close() at exit.
    last = log_entries(server)[-1]
    assert last["message"].startswith("Finished server process")


async def test_sigterm_to_workers_loses_no_line(live_servers: LiveServers) -> None:
    """A worker of `--workers N` ends by its own re-raised SIGTERM, with no exit handlers run:
    uvicorn's last messages write out what was queued before them."""
    server = live_servers.start(workers=2)
    request_ids = [f"workers-{uuid.uuid4().hex}" for _ in range(BURST)]

    assert await burst(server, request_ids) == {200}
    server.terminate()
    assert await asyncio.to_thread(server.process.wait, 30) == 0

    lines = access_lines(server)
    assert {request_id: lines[request_id] for request_id in request_ids} == dict.fromkeys(
        request_ids, 1
    )
    messages = [entry["message"] for entry in log_entries(server)]
    assert messages.count("shutdown: database pool and Redis connections closed") == 2
    assert len([m for m in messages if m.startswith("Finished server process")]) == 2


def test_the_writer_writes_every_record_in_order_by_close_and_any_later_at_once() -> None:
    stream = io.StringIO()
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.access_log.writer")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        for number in range(1000):
            logger.info("record %d", number)
        handler.close()  # as logging.shutdown does at exit
        logger.info("after close")
    finally:
        logger.removeHandler(handler)

    messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert messages == [f"record {number}" for number in range(1000)] + ["after close"]
