"""The scenarios of issue 6: what wrk sends, and one probe request to check both servers agree."""

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness import Account, Target, mint_accounts


@dataclass
class Workload:
    """Data the scenarios draw on, prepared once per run in a scratch directory."""

    target: Target
    files: Path
    reader: Account

    def file(self, name: str, lines: Iterable[str]) -> str:
        path = self.files / name
        path.write_text("".join(f"{line}\n" for line in lines))
        return str(path)

    @classmethod
    def prepare(cls, target: Target, files: Path) -> "Workload":
        (reader,) = asyncio.run(mint_accounts(target, 1))
        return cls(target=target, files=files, reader=reader)


@dataclass(frozen=True)
class Probe:
    path: str
    token: str | None = None
    body: bytes | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    # Bookly's throughput must reach this share of the baseline's.
    min_ratio: float
    script: str
    # wrk's script arguments; called before every wrk run (a write scenario needs fresh data).
    wrk_args: Callable[[Workload], list[str]]
    probe: Callable[[Workload], Probe]
    # Top-level fields allowed to differ between the two servers' answers to the probe.
    volatile: frozenset[str] = frozenset()


def _me_args(work: Workload) -> list[str]:
    return [work.file("s4-paths", ["/api/v1/users/me"]), work.reader.access_token]


SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            name="S4",
            title="GET /users/me (bearer)",
            min_ratio=0.5,
            script="get.lua",
            wrk_args=_me_args,
            probe=lambda work: Probe("/api/v1/users/me", work.reader.access_token),
        ),
    )
}
