"""Settings, read from the environment (prefix ``TONGBAN_``) with documented defaults."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The secret shipped for demos and tests. A production start refuses it.
DEMO_SECRET_KEY = "tongban-demo-secret-not-for-production"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGBAN_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///./var/tongban.db"
    secret_key: str = DEMO_SECRET_KEY
    # Bearer tokens are short-lived; department systems ask again with their client credentials.
    token_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_age_minutes: int = Field(default=8 * 60, ge=5)
    session_cookie_secure: bool | None = None  # default: True in production
    # Failed sign-ins are counted per (account, client address): at the limit that address is
    # answered 429 for the lock time, doubling with each further failure; other addresses are not.
    login_max_failures: int = Field(default=5, ge=1)
    login_lock_minutes: int = Field(default=15, ge=1)
    # Per client address over every account (one address guessing at many accounts).
    address_max_failures: int = Field(default=50, ge=1)
    # Registrations, one-time codes asked and codes tried, per client address and hour.
    identity_actions_per_hour: int = Field(default=30, ge=1)
    # file: appended to <data_dir>/sms-outbox.jsonl, codes in clear (development, tests; refused in
    # production). command: sms_command is run with the phone and the message as its last two arguments.
    sms_sender: Literal["file", "command"] = "file"
    sms_command: str | None = None  # e.g. "/usr/local/bin/send-sms --account district"; exit 0 = sent
    sms_command_timeout_s: float = Field(default=10.0, gt=0, le=120)
    sms_code_minutes: int = Field(default=10, ge=1, le=60)  # a one-time code's life
    sms_code_attempts: int = Field(default=5, ge=1, le=10)  # wrong tries before a code is void
    sms_codes_per_hour: int = Field(default=5, ge=1, le=60)  # codes sent for one ID number
    # argon2-cffi profile name; tests use CHEAPEST so hundreds of sign-ins stay fast.
    argon2_profile: str = "RFC_9106_LOW_MEMORY"
    log_level: str = "INFO"
    log_format: str = "json"  # json | text
    nats_url: str | None = None
    nats_stream: str = "TONGBAN"  # the JetStream stream holding the change events
    nats_subject_prefix: str = "tongban"  # events go to <prefix>.registry.persons, ...
    data_dir: Path = Path("./var")  # uploaded import files and their rejected-row reports
    correction_days: int = Field(default=5, ge=1, le=60)  # working days for the source to answer a 纠错
    sharing_response_days: int = Field(default=10, ge=1, le=60)  # working days for a provider to answer
    # Hosts subscription callbacks may point at (comma-separated; "*.example.gov.cn" for a domain).
    # Unset: "127.0.0.1,localhost" in development and tests, none in production, where a loopback
    # callback could reach the server's own internal endpoints: production lists its hosts.
    exchange_callback_hosts: str | None = None
    exchange_delivery_attempts: int = Field(default=8, ge=1, le=50)  # then the batch goes to dead letters
    exchange_delivery_timeout_s: float = Field(default=5.0, gt=0, le=60)
    exchange_retry_base_s: float = Field(default=1.0, gt=0, le=600)  # back-off: base × 2^attempt, at most 10 min
    # A dispatcher's claim on a subscription lasts 4 × the timeout plus this margin: after a crash
    # mid-call, the batch is sent again (at least once) when the claim runs out.
    exchange_lease_margin_s: float = Field(default=30.0, ge=1, le=600)
    max_request_kb: int = Field(default=2048, ge=16)  # any request body but file uploads
    import_max_upload_mb: int = Field(default=1024, ge=1)  # bigger files: the CLI import, or split them
    import_batch_rows: int = Field(default=20_000, ge=100, le=100_000)  # rows an uploaded import commits at a time
    relay_enabled: bool = True  # deliver outbox events (and run the deadline scans) from the web process
    # Build the item search index before serving (a fresh start: the first search then finds it
    # built); otherwise beside serving (a worker started again after a crash takes requests at once).
    warm_search_before_serving: bool = False
    # How often overdue work is looked for: a minute, as city-management limits run in hours.
    deadline_scan_seconds: float = Field(default=60, ge=1)
    # How often waiting text messages (a 12345 reply, an answered letter) are sent.
    text_send_seconds: float = Field(default=10, ge=1)
    # 智能匹配: how often the registries' change feed is read to match changed subjects again.
    policy_rematch_seconds: float = Field(default=2, ge=0.2)
    district_code: str = Field(default="310115", pattern=r"^\d{6}$")  # GB/T 2260 code of the district served
    # The district's extent (min lon, min lat, max lon, max lat, WGS 84): a grid cell or a reported
    # position outside it is refused. The default is 浦东新区's.
    grid_extent: str = "121.43,30.85,122.00,31.45"
    attachment_max_mb: int = Field(default=20, ge=1, le=200)  # one uploaded material
    virus_scan_command: str | None = None  # e.g. "clamdscan --no-summary {path}"; exit 0 = clean
    consultation_confidence: float = Field(default=0.55, ge=0, le=1)  # below it a person answers
    consultation_response_days: int = Field(default=3, ge=1, le=30)  # working days for that answer
    rectification_days: int = Field(default=10, ge=1, le=60)  # working days a department has to put a poor rating right
    # Client addresses (CIDRs, comma-separated) that may reach the internal operations endpoints:
    # /metrics always, the API docs (/docs, /openapi.json) unless docs_public.
    internal_networks: str = "127.0.0.0/8,::1/128"
    # Proxies (addresses or CIDRs, comma-separated; "*" for any) whose X-Forwarded-For and
    # X-Forwarded-Proto uvicorn believes: behind a reverse proxy, its address, so that the throttles
    # and the internal-network check see the client's address rather than the proxy's.
    forwarded_allow_ips: str = "127.0.0.1"
    docs_public: bool | None = None  # default: public except in production
    # The platform's address as the public reaches it (e.g. "https://zwfw.pudong.gov.cn"; a path
    # prefix may follow): every absolute link the platform prints (the licence's QR code, the
    # progress page named on a result notice) starts with it. Unset: the address each request came to.
    public_url: str | None = None

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("TONGBAN_DATABASE_URL must start with sqlite:/// or postgresql://")
        return value

    @field_validator("internal_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        from tongban.core.headers import parse_networks

        try:
            parse_networks(value)
        except ValueError as error:
            raise ValueError(f"TONGBAN_INTERNAL_NETWORKS 含无效的网段 (bad CIDR): {error}") from None
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        from tongban.core.headers import parse_networks

        if value.strip() == "*":
            return "*"
        try:
            parse_networks(value)
        except ValueError as error:
            raise ValueError(f"TONGBAN_FORWARDED_ALLOW_IPS 含无效的地址 (bad address or CIDR): {error}") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_address(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        from tongban.core.urls import url_problem

        if value is None or not value.strip():
            return None
        value = value.strip()
        problem = url_problem(value)
        if problem is None and (urlsplit(value).query or urlsplit(value).fragment):
            problem = "不能带查询参数或锚点"
        if problem is not None:
            raise ValueError(f"TONGBAN_PUBLIC_URL {problem} (the public base address, e.g. https://zwfw.example.gov.cn)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_needs_a_real_secret(self) -> Settings:
        if self.env == Environment.PRODUCTION and (
            self.secret_key == DEMO_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "生产环境拒绝启动：TONGBAN_SECRET_KEY 仍是演示密钥或少于 32 个字符 "
                "(production refuses the demo secret; set TONGBAN_SECRET_KEY to 32+ random characters)"
            )
        return self

    @model_validator(mode="after")
    def _callback_hosts_by_environment(self) -> Settings:
        if self.exchange_callback_hosts is None:
            self.exchange_callback_hosts = "" if self.env == Environment.PRODUCTION else "127.0.0.1,localhost"
        return self

    @model_validator(mode="after")
    def _a_real_sms_sender(self) -> Settings:
        # The file sender keeps every one-time code in clear on disk: fine on a developer's machine,
        # never where the codes prove real people's identities.
        if self.env == Environment.PRODUCTION and self.sms_sender == "file":
            raise ValueError(
                "生产环境拒绝启动：TONGBAN_SMS_SENDER=file 会把验证码明文写入文件 "
                "(production refuses the file SMS sender; set TONGBAN_SMS_SENDER=command and TONGBAN_SMS_COMMAND)"
            )
        if self.sms_sender == "command" and not (self.sms_command or "").strip():
            raise ValueError("TONGBAN_SMS_SENDER=command 需要设置 TONGBAN_SMS_COMMAND (the command that sends a message)")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The URL as SQLAlchemy wants it: psycopg 3 for PostgreSQL."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def cookie_secure(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.env == Environment.PRODUCTION

    @property
    def docs_are_public(self) -> bool:
        if self.docs_public is not None:
            return self.docs_public
        return self.env != Environment.PRODUCTION

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        return None if path in ("", ":memory:") else Path(path)


@lru_cache
def get_settings() -> Settings:
    return Settings()
