"""Settings, read from the environment (and an optional `.env`), with names operators know."""

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal

from limits import parse as parse_limit
from pydantic import EmailStr, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The development default secret is public; `Settings` refuses it outside development.
DEVELOPMENT_SECRET = "bookly-development-secret-change-me-0123456789"  # noqa: S105


def _async_driver_url(url: str) -> str:
    """Accept the URLs people write (`postgresql://`, `sqlite:///`) and pick the async driver."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url.removeprefix(plain)
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./var/bookly.db"
    redis_url: str | None = None
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # All request headers together (names and values), and how many there may be: beyond, 431.
    # How long a create's Idempotency-Key (and the answer kept under it) is remembered.
    idempotency_key_ttl_seconds: int = Field(default=86400, ge=60, le=7 * 86400)
    max_header_bytes: int = Field(default=16384, ge=1024, le=1048576)
    max_header_count: int = Field(default=100, ge=10, le=1000)
    db_pool_size: int = Field(default=10, ge=1, le=100)
    db_pool_timeout_seconds: float = Field(default=3.0, gt=0)
    db_statement_timeout_ms: int = Field(default=5000, ge=0)
    # `transaction`: every connection goes through a transaction-pooling proxy (PgBouncer):
    # no prepared statement outlives its statement, no session state, and the statement timeout
    # is the role's default in the database (`bookly migrate` stores it), not a startup option.
    db_pooler: Literal["none", "transaction"] = "none"
    # A streaming replica for public reads; when it is down or further behind than
    # DB_REPLICA_MAX_LAG_SECONDS, they go to DATABASE_URL.
    database_replica_url: str | None = None
    db_replica_max_lag_seconds: float = Field(default=2.0, gt=0, le=300)
    redis_timeout_seconds: float = Field(default=0.3, gt=0, le=0.5)
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)
    # A sign-in (signup, password change or reset) waits for a hashing thread while its
    # expected wait stays within this; past it, 503 (core/hashing_admission.py).
    password_hash_wait_budget_seconds: float = Field(default=1.0, ge=0, le=60)
    # A relevance search ranks this many of the newest matching books (bench/README.md: any
    # bound keeps a common word's search from growing with the catalogue).
    search_rank_window: int = Field(default=500, ge=1, le=10_000)
    public_base_url: str = "http://127.0.0.1:8000"
    verification_link_ttl_seconds: int = Field(default=48 * 3600, ge=60)
    reset_link_ttl_seconds: int = Field(default=3600, ge=60)
    # Email: with MAIL_SERVER set, SMTP; unset, each email is written as an .eml file to MAIL_DIR.
    mail_server: str | None = None
    mail_port: int = Field(default=587, ge=1, le=65535)
    mail_username: str = ""
    mail_password: SecretStr = SecretStr("")
    mail_from: EmailStr = "bookly@example.com"
    mail_from_name: str = "Bookly"
    mail_starttls: bool = True
    mail_ssl_tls: bool = False
    mail_timeout_seconds: int = Field(default=15, ge=1, le=300)
    mail_dir: Path = Path("var/mail")
    # The outbox: drained by `bookly worker` processes, and by the API process itself unless
    # OUTBOX_DRAIN_IN_PROCESS is false (set it false where workers run).
    outbox_drain_in_process: bool = True
    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    outbox_batch_size: int = Field(default=10, ge=1, le=1000)
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_retry_base_seconds: float = Field(default=5.0, gt=0)
    outbox_retry_max_seconds: float = Field(default=3600.0, gt=0)
    cors_origins: Annotated[list[str], NoDecode] = []
    forwarded_allow_ips: str = "127.0.0.1"
    # `*` allows any Host header; list the names the service answers to in production.
    trusted_hosts: Annotated[list[str], NoDecode] = ["*"]
    # /metrics shows traffic shape: with either set, a scrape must show the token
    # (`Authorization: Bearer …`) and/or come from one of the networks (`10.0.0.0/8,::1`).
    metrics_token: SecretStr | None = None
    metrics_allow_networks: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []
    log_level: str = "INFO"
    # Seconds in-flight requests get after SIGTERM (keep above the longest request).
    graceful_shutdown_seconds: int = Field(default=30, ge=1, le=600)
    # With `--workers N`: how long a worker may take to start (or answer a health ping) before
    # uvicorn replaces it. Imports alone take seconds on a busy small machine.
    worker_healthcheck_seconds: int = Field(default=60, ge=5, le=600)
    # Rate limits, in the `limits` notation (`N/period`, e.g. `5/15minutes`).
    rate_limit_login_account: str = "5/15minutes"
    rate_limit_login_ip: str = "30/15minutes"
    rate_limit_signup_ip: str = "10/hour"
    rate_limit_email_target: str = "5/hour"
    rate_limit_email_ip: str = "20/hour"

    @field_validator("database_url")
    @classmethod
    def _pick_async_driver(cls, url: str) -> str:
        return _async_driver_url(url)

    @field_validator("database_replica_url")
    @classmethod
    def _replica_driver(cls, url: str | None) -> str | None:
        if not url:
            return None
        url = _async_driver_url(url)
        if not url.startswith("postgresql+asyncpg://"):
            raise ValueError("DATABASE_REPLICA_URL must be a PostgreSQL URL (postgresql://…)")
        return url

    @field_validator("redis_url")
    @classmethod
    def _empty_redis_means_none(cls, url: str | None) -> str | None:
        return url or None

    @field_validator("mail_server")
    @classmethod
    def _empty_mail_server_means_none(cls, server: str | None) -> str | None:
        return server or None

    @field_validator("public_base_url")
    @classmethod
    def _absolute_base_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_BASE_URL must start with http:// or https://")
        return url.rstrip("/")

    @field_validator("cors_origins", "trusted_hosts", "metrics_allow_networks", mode="before")
    @classmethod
    def _split_comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, origins: list[str]) -> list[str]:
        # Credentials (the Authorization header) are allowed cross-origin, so never `*`.
        if "*" in origins:
            raise ValueError("CORS_ORIGINS must list origins; `*` is refused")
        return origins

    @field_validator(
        "rate_limit_login_account",
        "rate_limit_login_ip",
        "rate_limit_signup_ip",
        "rate_limit_email_target",
        "rate_limit_email_ip",
    )
    @classmethod
    def _limits_notation(cls, value: str) -> str:
        parse_limit(value)  # raises ValueError on anything but `N/period`
        return value

    @model_validator(mode="after")
    def _refuse_public_secret(self) -> "Settings":
        secret = self.jwt_secret.get_secret_value()
        if self.environment == "production" and (secret == DEVELOPMENT_SECRET or len(secret) < 32):
            raise ValueError("JWT_SECRET must be set to a private value of 32+ characters")
        if self.mail_starttls and self.mail_ssl_tls:
            raise ValueError("MAIL_STARTTLS and MAIL_SSL_TLS are exclusive: choose one")
        if self.is_sqlite and (self.db_pooler != "none" or self.database_replica_url):
            raise ValueError("DB_POOLER and DATABASE_REPLICA_URL are for PostgreSQL")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
