"""PLC Bridge settings: one typed object, read once from the environment and an optional TOML file."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal

from limits import parse_many
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from models.calendar import CERTIFICATE_WINDOW, THAI_ZONE_NAME
from models.privacy_notice import NoticeProblem, load_notice
from xapi.lrs_client import LrsDestination


class SmtpSettings(BaseModel):
    """Settings: PLC_SMTP as JSON, or an [smtp] table in the TOML file. E-mail is off without it."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    user: str = ""
    password: SecretStr = SecretStr("")
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    sender_name: str = "PLC Bridge"
    ca_file: Path | None = None  # the certificate of a private CA that signed the mail server's (else the system's)
    timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    # TLS from the first byte (SMTPS, usually port 465) instead of STARTTLS on a plain connection (587).
    implicit_tls: bool = False

    @model_validator(mode="after")
    def _password_only_over_tls(self) -> SmtpSettings:
        if (self.user or self.password.get_secret_value()) and not (self.starttls or self.implicit_tls):
            if not _is_loopback(self.host):
                raise ValueError(
                    'PLC_SMTP: a user and password are sent only over TLS: set "starttls": true (port 587) or '
                    '"implicit_tls": true (port 465), or use a mail server on this host (127.0.0.1)'
                )
        return self


def _is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SettingsError(Exception):
    """A setting is missing or unsafe; the message names the variable to fix."""


class Settings(BaseSettings):
    """Every setting has an environment variable `PLC_<NAME>`; `PLC_CONFIG_FILE` names a TOML file."""

    model_config = SettingsConfigDict(env_prefix="PLC_", extra="forbid")

    instance_path: Path = Field(default=Path("instance"))
    # Evidence files (lesson plans, photos, student work), outside the web root; default <instance>/evidence.
    evidence_path: Path | None = None
    # Where new evidence bytes go: "database" (chunks in PostgreSQL, which every host reads and pg_dump backs up),
    # "folder" (evidence_path, the embedded default); "auto" is the database on PostgreSQL, else the folder.
    evidence_store: Literal["auto", "database", "folder"] = "auto"
    database_url: str = Field(default="", repr=False)  # may hold a password
    # Where browsers and the LMS reach the tool; outside production, `plc-bridge serve` derives it from --host and
    # --port unless it is set (`served_at`).
    public_base_url: str = "http://127.0.0.1:5000"
    secret_key: str = Field(default="", repr=False)
    production: bool = False
    demo_enabled: bool = False
    # Allowed clock difference between the platform and us when checking exp / iat (1EdTech Security §5.1.3).
    jwt_leeway_seconds: int = Field(default=60, ge=0, le=300)
    # How long a login's state and nonce stay usable (at most an hour: a spent nonce is kept an hour past its state's
    # end, models/launch.py, so a longer time set later cannot make a forgotten one usable again).
    login_request_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    # How long an app session lasts at most (sign out ends it sooner); a link's session token lives 20 minutes and
    # every page renews it (lti_tool/web/session.py).
    session_ttl_seconds: int = 8 * 3600
    # A launch whose state cookie did not come back and whose platform offered no storage (Moodle 4.5 in a
    # cross-site iframe of a browser without partitioned cookies): refuse it (true), or let the login's browser
    # fingerprint bind it (false).
    require_browser_binding: bool = False
    # What of the browser the login's state is bound to when no cookie comes back: its address and user agent,
    # the user agent alone (a network whose requests leave by several addresses), or nothing but the login's
    # one-time nonce ("off").
    launch_fingerprint: Literal["address_and_agent", "agent", "off"] = "address_and_agent"
    # How long a retired tool key stays in the JWKS after `keys rotate`.
    key_grace_days: int = 7
    # How long a fetched platform JWKS is trusted before it is fetched again.
    platform_jwks_cache_seconds: int = 3600
    max_id_token_bytes: int = 32 * 1024
    # Learning Record Stores the outbox delivers to (PLC_LRS: a JSON list of {name, endpoint, username, password}).
    lrs: list[LrsDestination] = Field(default_factory=list)
    # The embedded default runs the outbox worker as a thread; production runs `plc-bridge worker` instead.
    worker_thread: bool = True
    outbox_batch_size: int = Field(default=100, ge=1, le=1000)
    outbox_max_backoff_seconds: float = 600.0
    # Notices by e-mail: the district's SMTP server (host, port, STARTTLS, user, password, sender); off without it.
    smtp: SmtpSettings | None = None
    # Notices by LINE: each platform's channel access token and secret are set on its admin page; this is where
    # the Messaging API answers (LINE's own unless a test points it at a local server).
    line_api_base_url: str = Field(default="https://api.line.me", pattern=r"^https?://")
    line_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    line_concurrency: int = Field(default=16, ge=1, le=64)  # pushes in flight at once (LINE allows 2,000/s)
    line_max_webhook_bytes: int = Field(default=64 * 1024, ge=1024)
    # Production, behind a reverse proxy: how many proxies set X-Forwarded-* (0 trusts none of those headers).
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    # Rate limits per client address, in the `limits` library's notation ("120 per minute"; empty: none); storage is
    # shared by all web processes in production.
    rate_limit_lti: str = "120 per minute"
    rate_limit_storage: str = "memory://"
    # The public certificate check (/verify) per client address: codes are unguessable, and this keeps them so.
    rate_limit_verify: str = "30 per minute"
    # A folder of the agency's own document templates (certificate.html, logbook.html, results-report.html,
    # documents.css, Jinja + HTML/CSS); a file missing there is taken from the shipped config/documents/.
    document_templates: Path | None = None
    # The letters to the Council write numbers in Thai digits (๑๒๓), as official Thai letters do; false: 1 2 3.
    thai_digits: bool = True
    # /readyz answers 503 when the oldest waiting learning record is older than this.
    readiness_max_outbox_lag_seconds: int = 900
    # LTI Dynamic Registration: platform issuers allowed to register the tool (exact issuer URLs; "*" = any).
    # Empty means any issuer while trying the tool out, and nobody in production (set it there, "*" included).
    registration_allowed_issuers: list[str] = Field(default_factory=list)
    # How long the tool waits for the platform's OpenID configuration and registration endpoints.
    registration_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Personal data (PDPA): how many days after an ended program's last day its free text (reflections, comments,
    # observations, forms' text answers, session notes) and evidence files are kept before the retention run removes
    # them. The Council needs the texts in the results report within 30 days of the end (seed 004 §3.3); a year in
    # all leaves late certificates, the Council's questions and next year's plan the texts to read.
    retention_days_after_end: int = Field(default=365, ge=CERTIFICATE_WINDOW.days + 1)
    # How many days an entry of the read log (who read another person's record) is kept.
    read_log_days: int = Field(default=365 * 2, ge=1)
    # The personal-data notice (PDPA B.E. 2562): shown after a person's launch until they have read its current version
    # (on by default, production and the demo included; the test suite's own tool turns it off).
    privacy_notice: bool = True
    # The district's own notice (TOML with a `version`, like the shipped config/privacy_notice/notice.toml).
    privacy_notice_file: Path | None = None
    log_format: Literal["text", "json"] = "text"
    default_locale: str = "th"
    timezone: str = THAI_ZONE_NAME  # the zone pages show times in; program days are Thai days whatever it says
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get("PLC_CONFIG_FILE")
        if config_file:
            # Precedence: explicit arguments, then the environment, then the TOML file.
            return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return (init_settings, env_settings)

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("rate_limit_lti", "rate_limit_verify")
    @classmethod
    def _a_rate_limit(cls, value: str) -> str:
        try:
            if value.strip():  # empty: no limit
                parse_many(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a rate limit: write it as '120 per minute' or '5/second; 120/minute'"
            ) from None
        return value

    @field_validator("document_templates")
    @classmethod
    def _templates_folder_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"PLC_DOCUMENT_TEMPLATES names {value}, which is not a folder of document templates")
        return value

    @field_validator("privacy_notice_file")
    @classmethod
    def _notice_readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                load_notice(value)
            except NoticeProblem as problem:
                raise ValueError(str(problem)) from problem
        return value

    @field_validator("demo_enabled")
    @classmethod
    def _demo_installed(cls, value: bool) -> bool:
        if value and importlib.util.find_spec("lti1p3platform") is None:
            raise ValueError(
                "PLC_DEMO_ENABLED needs the demo extra, whose LMS is built on lti1p3platform: pip install 'plc-bridge[demo]'"
            )
        return value

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.production:
            if self.demo_enabled:
                raise ValueError(
                    "PLC_DEMO_ENABLED must be false when PLC_PRODUCTION is true: the demo LMS is for trying the tool out"
                )
            if not self.secret_key:
                raise ValueError(
                    "PLC_SECRET_KEY must be set in production (a long random string shared by all web processes)"
                )
            if not self.public_base_url.startswith("https://"):
                raise ValueError(
                    "PLC_PUBLIC_BASE_URL must start with https:// in production: Moodle frames the tool and cookies need Secure"
                )
            if not self.database_url.startswith("postgresql"):
                raise ValueError(
                    "PLC_DATABASE_URL must be a postgresql+psycopg:// URL in production (SQLite is for one machine)"
                )
            if self.rate_limit_storage.startswith("memory"):
                raise ValueError(
                    "PLC_RATE_LIMIT_STORAGE must be shared (redis://…) in production: every web process counts the same requests"
                )
        return self

    @field_validator("lrs")
    @classmethod
    def _unique_lrs_names(cls, value: list[LrsDestination]) -> list[LrsDestination]:
        names = [d.name for d in value]
        if len(names) != len(set(names)):
            raise ValueError("every LRS destination needs its own name")
        return value

    @property
    def lrs_names(self) -> list[str]:
        return [d.name for d in self.lrs]

    def registration_allows(self, issuer: str) -> bool:
        """May a platform with this issuer register itself by LTI Dynamic Registration?"""
        allowed = [entry.rstrip("/") for entry in self.registration_allowed_issuers]
        if not allowed:
            return not self.production
        return "*" in allowed or issuer.rstrip("/") in allowed

    @property
    def is_https(self) -> bool:
        return self.public_base_url.startswith("https://")

    @property
    def public_base_url_is_set(self) -> bool:
        """Was the public URL given (argument, environment or config file), rather than left at its default?"""
        return "public_base_url" in self.model_fields_set

    def served_at(self, host: str, port: int) -> Settings:
        """The settings of a server listening on `host`:`port`. Outside production a public URL that was not set
        follows that address, so `serve --port 8080` alone gives Moodle URLs that work; one that was set (a
        proxy's address, say) always wins, and production requires it. A server on every address (0.0.0.0, ::)
        is named by its loopback address, which is all that can be known of it here."""
        if self.production or self.public_base_url_is_set:
            return self
        return self.model_copy(update={"public_base_url": _http_url(host, port)})

    def resolved(self) -> Settings:
        """Fill embedded defaults: instance folder, SQLite file, generated secret (kept in the instance folder)."""
        instance = self.instance_path.resolve()
        instance.mkdir(parents=True, exist_ok=True)
        updates: dict[str, Any] = {"instance_path": instance}
        updates["evidence_path"] = (self.evidence_path or instance / "evidence").resolve()
        if not self.database_url:
            updates["database_url"] = f"sqlite:///{instance / 'plc-bridge.sqlite3'}"
        if self.evidence_store == "auto":
            on_postgres = updates.get("database_url", self.database_url).startswith("postgresql")
            updates["evidence_store"] = "database" if on_postgres else "folder"
        if not self.secret_key:
            secret_file = instance / "secret_key"
            if not secret_file.exists():
                secret_file.write_text(secrets.token_urlsafe(48))
                secret_file.chmod(0o600)
            updates["secret_key"] = secret_file.read_text().strip()
        return self.model_copy(update=updates)


EVERY_ADDRESS = frozenset({"", "0.0.0.0", "::"})


def _http_url(host: str, port: int) -> str:
    name = "127.0.0.1" if host in EVERY_ADDRESS else host
    try:
        if ipaddress.ip_address(name).version == 6:
            name = f"[{name}]"
    except ValueError:
        pass  # a host name
    return f"http://{name}" if port == 80 else f"http://{name}:{port}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings from arguments, the environment and `PLC_CONFIG_FILE` (TOML); raise SettingsError."""
    config_file = os.environ.get("PLC_CONFIG_FILE")
    if config_file:
        try:
            tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"PLC_CONFIG_FILE={config_file}: cannot read it ({exc})") from exc
    try:
        return Settings(**overrides).resolved()
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        raise SettingsError(problems) from exc


def _describe(err: Any) -> str:
    field = "_".join(str(part) for part in err["loc"]).upper()
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"PLC_{field}: {message}" if field else message
