"""Real `bookly` processes for the tests that need them (workers, a live server)."""

import asyncio
import os
import signal
from pathlib import Path

from tests.support.servers import BOOKLY, START_TIMEOUT_SECONDS


def process_env(database_url: str, smtp_port: int, **extra: str) -> dict[str, str]:
    """An environment for a `bookly` process: the test database and SMTP server, and nothing
    from the developer's own environment that could change the outcome."""
    keep = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    return {
        **keep,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": "test-secret-" + "x" * 40,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "MAIL_STARTTLS": "false",
        "MAIL_TIMEOUT_SECONDS": "5",
        "OUTBOX_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "INFO",
        **extra,
    }


class Process:
    """A `bookly` subprocess whose output goes to a log file (read by the test on failure)."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path):
        self.process = process
        self.log = log

    @classmethod
    async def start(cls, args: list[str], env: dict[str, str], cwd: Path, name: str) -> "Process":
        log = cwd / f"{name}.log"
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                str(BOOKLY), *args, env=env, cwd=cwd, stdout=output, stderr=output
            )
        return cls(process, log)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait_for_output(self, text: str, seconds: float = START_TIMEOUT_SECONDS) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while text not in self.output():
            if self.process.returncode is not None or loop.time() > deadline:
                raise AssertionError(f"{text!r} never appeared:\n{self.output()}")
            await asyncio.sleep(0.1)

    async def terminate(self, seconds: float = 15) -> int:
        """SIGTERM, then the exit status (killing it if it does not stop in time)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), seconds)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"did not stop on SIGTERM:\n{self.output()}") from None
