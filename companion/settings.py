"""The one settings object: every setting comes from a `COMPANION_` environment variable or `.env`.

Nothing else in the code base reads the environment. `.env.example` lists every field here
with a one-line comment, and a test keeps the two in step.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["FORBIDDEN_VARIABLES", "Environment", "ForbiddenEnvironmentError", "Settings", "check_forbidden_environment"]

#: Variables that make Chainlit store conversations in plaintext or upload them to a cloud
#: service. Their presence is refused at start-up, whatever their value.
FORBIDDEN_VARIABLES: dict[str, str] = {
    "DATABASE_URL": "it switches on Chainlit's own plaintext conversation storage",
    "LITERAL_API_KEY": "it makes Chainlit upload conversations to the Literal AI cloud service",
}


class ForbiddenEnvironmentError(RuntimeError):
    """Raised when a variable that would leak patient text is set."""


def check_forbidden_environment(environ: dict[str, str] | None = None) -> None:
    """Refuse to run when DATABASE_URL or LITERAL_API_KEY is set, saying why and what to do."""
    env = os.environ if environ is None else environ
    found = [name for name in FORBIDDEN_VARIABLES if env.get(name)]
    if found:
        reasons = "; ".join(f"{name} is set: {FORBIDDEN_VARIABLES[name]}" for name in found)
        raise ForbiddenEnvironmentError(
            f"Refusing to start. {reasons}. Unset it (use COMPANION_DATABASE_URL for the "
            "database) and start again."
        )


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Application settings, read from `COMPANION_*` variables (and `.env` if present)."""

    model_config = SettingsConfigDict(
        env_prefix="COMPANION_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Field(Environment.DEVELOPMENT)
    data_dir: Path = Field(Path("./var"))
    database_url: str = Field("", description="empty means SQLite in the data directory")
    locale: str = Field("en-US")
    host: str = Field("127.0.0.1")
    port: int = Field(8000, ge=1, le=65535)
    public_url: str = Field("", description="origin the browser uses; derived from host and port if empty")
    allowed_origins: list[str] = Field(default_factory=list)
    kek: SecretStr | None = Field(None, description="base64 key-encryption key; else read from the data dir")
    kek_id: str = Field("", description="id of COMPANION_KEK; required when COMPANION_KEK is set")
    session_secret: SecretStr | None = Field(None, description="secret for signing chat sessions")
    session_timeout_minutes: int = Field(60, ge=5, le=24 * 60)
    llm_base_url: str = Field("")
    llm_api_key: SecretStr | None = Field(None)
    llm_model: str = Field("")
    llm_timeout_seconds: float = Field(4.0, gt=0, le=30)
    log_level: str = Field("INFO")
    max_message_chars: int = Field(4000, ge=100, le=100_000)
    questionnaire_interval_days: int = Field(14, ge=1, le=365)
    notify_reviewer_urls: list[str] = Field(
        default_factory=list, description="apprise URLs of the on-call safety reviewers (JSON list)"
    )
    notify_timeout_seconds: float = Field(10.0, gt=0, le=120)
    portal_idle_minutes: int = Field(15, ge=1, le=240)
    portal_absolute_hours: int = Field(8, ge=1, le=24)
    login_max_failures: int = Field(5, ge=1, le=100)
    login_window_minutes: int = Field(15, ge=1, le=24 * 60)
    invite_valid_days: int = Field(7, ge=1, le=60)

    @field_validator("locale")
    @classmethod
    def _locale_shape(cls, value: str) -> str:
        parts = value.replace("_", "-").split("-")
        if len(parts) != 2 or not all(p.isalpha() for p in parts):
            raise ValueError("COMPANION_LOCALE must look like en-US or es-ES")
        return f"{parts[0].lower()}-{parts[1].upper()}"

    @field_validator("notify_reviewer_urls")
    @classmethod
    def _notify_urls_shape(cls, value: list[str]) -> list[str]:
        for index, url in enumerate(value):
            if "://" not in url:
                raise ValueError(
                    f"COMPANION_NOTIFY_REVIEWER_URLS[{index}] is not an apprise URL (scheme://...); "
                    'give a JSON list such as ["mailtos://user:pass@example.org"]'
                )
        return [url.strip() for url in value]

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError(
                "COMPANION_DATABASE_URL must start with sqlite:/// or postgresql+psycopg:// "
                "(leave it empty for SQLite in the data directory)"
            )
        return value

    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'companion.sqlite3'}"

    @property
    def is_postgres(self) -> bool:
        return self.sqlalchemy_url.startswith("postgresql")

    @property
    def checkpoint_location(self) -> str:
        """Where LangGraph checkpoints live: a SQLite file beside the database, or the same PostgreSQL."""
        if self.is_postgres:
            return self.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
        return str(self.resolved_data_dir / "checkpoints.sqlite3")

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def origin(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def origins(self) -> list[str]:
        """Origins allowed to open the chat socket."""
        extra = [o.rstrip("/") for o in self.allowed_origins]
        base = [self.origin]
        if self.host in {"127.0.0.1", "localhost"}:
            base += [f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"]
        return list(dict.fromkeys(base + extra))

    def validate_for_start(self) -> None:
        """Refuse unsafe configurations before anything is served or stored."""
        check_forbidden_environment()
        if self.environment is Environment.PRODUCTION:
            if self.kek is None:
                raise ValueError(
                    "COMPANION_KEK must be set in production (keys in the data directory are "
                    "for development only)"
                )
            if self.session_secret is None or len(self.session_secret.get_secret_value()) < 32:
                raise ValueError("COMPANION_SESSION_SECRET must be set to 32+ random characters in production")
        if self.kek is not None and not self.kek_id:
            raise ValueError("COMPANION_KEK_ID must be set when COMPANION_KEK is set")
        if self.llm_base_url and not self.llm_model:
            raise ValueError("COMPANION_LLM_MODEL must be set when COMPANION_LLM_BASE_URL is set")
