"""The benchmark harness still runs end to end (benchmarks themselves are never tests).

Runs `bench/run.py` in its shortest form, S4 only, against a scratch database it drops, and
checks the result line it prints is whole; and S3 on a few seeded books, whose probe the two
servers must answer alike (the baseline runs Bookly's search SQL). Needs PostgreSQL, Redis and
`wrk`.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKEND, POSTGRES_ADMIN_URL, REDIS_URL

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="the benchmark runs with the PostgreSQL pass"
)


def quickest_run(scenario: str, *data: str) -> dict[str, Any]:
    """The one result line of `bench/run.py` for `scenario` on a scratch database seeded with
    `data` (its seeding options)."""
    command = [
        sys.executable, str(ROOT / "bench" / "run.py"), "--scenarios", scenario,
        "--warmup", "0", "--duration", "1", "--rounds", "1", "--connections", "4", *data,
        "--database", f"bookly_bench_pytest_{uuid.uuid4().hex[:8]}", "--drop-database",
        "--admin-url", POSTGRES_ADMIN_URL, "--redis-url", REDIS_URL,
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, done.stdout
    result: dict[str, Any] = json.loads(lines[0].removeprefix("RESULT "))
    assert result["scenario"] == scenario
    return result


def test_quickest_s3_run_finds_both_servers_ranking_alike() -> None:
    # Enough books that the search word is in a few dozen, ranked in several tiers: run.py stops
    # ("the servers disagree") unless both answer the probe with the same page.
    result = quickest_run("S3", "--books", "2000", "--reviews", "2000", "--users", "50")
    assert result["clean"] is True


def test_quickest_s4_run_prints_a_well_formed_result() -> None:
    result = quickest_run("S4", "--books", "0")
    assert result["clean"] is True
    for server in ("bookly", "baseline"):
        figures = result[server]
        assert figures["requests"] > 0
        assert figures["rps"] > 0
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]
        assert figures["cpu_us_per_request"] > 0
    assert result["ratio"] == pytest.approx(
        result["bookly"]["rps"] / result["baseline"]["rps"], rel=0.01
    )
    assert isinstance(result["ratio_ok"], bool)
    assert isinstance(result["p99_ok"], bool)
