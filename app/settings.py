"""Typed settings read from KINWARD_* environment variables."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'kinward.sqlite'}"
ENVIRONMENTS = ("development", "production", "test")
PASSWORD_HASHINGS = ("standard", "test")  # what each means: app.accounts.passwords.configure_hashing
STARTTLS_MODES = ("auto", "yes", "no")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Without KINWARD_SECRET_KEY outside production, every process of this checkout shares the secret kept here.
DEVELOPMENT_SECRET_FILE = ROOT / "var" / "development-secret-key"


class SettingsError(ValueError):
    """A KINWARD_* variable has a value Kinward cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    env: str = "development"
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    password_hash_concurrency: int = 2
    # "test": argon2id's cheapest parameters, for servers that tests drive; refused in production (and by the
    # commands on a database with any facility but the demo's: app.cli).
    password_hashing: str = "standard"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "Kinward <kinward@localhost>"
    smtp_starttls: str = "auto"  # auto: when the server offers it; yes: required; no: never
    # Where people reach Kinward: links in emails (invitations, messages) start with it.
    base_url: str = DEFAULT_BASE_URL
    # Keys the audit chain and signs its checkpoints; never stored in the database. Empty: derived
    # from KINWARD_SECRET_KEY when that is set, else a fixed development key.
    audit_key: str = field(default="", repr=False)
    # Where the signed audit checkpoint is written (a place the operator keeps, outside the database).
    audit_checkpoint_path: str = ""
    audit_checkpoint_minutes: int = 15
    # Scheduled backups: off unless a directory is given. A passphrase encrypts every backup file.
    backup_dir: str = ""
    backup_interval_hours: int = 24
    backup_passphrase: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        # Here rather than in from_env: settings made in code (a test, a script) are refused the same way.
        if self.password_hashing not in PASSWORD_HASHINGS:
            raise SettingsError(f"KINWARD_PASSWORD_HASHING must be one of {', '.join(PASSWORD_HASHINGS)}; "
                                f"got {self.password_hashing!r}")
        if self.password_hashing == "test" and self.is_production:
            raise SettingsError("KINWARD_PASSWORD_HASHING=test is for servers that tests drive; "
                                "it is refused when KINWARD_ENV=production")

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *,
                 development_secret_file: Path = DEVELOPMENT_SECRET_FILE) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}

        url = env.get("KINWARD_DATABASE_URL", "").strip()
        if url:
            if not (url.startswith("sqlite:///") or url.startswith(("postgresql://", "postgres://"))):
                raise SettingsError(
                    "KINWARD_DATABASE_URL must start with sqlite:/// (a file path) "
                    f"or postgresql:// (a server); got {url.split(':', 1)[0]!r}"
                )
            values["database_url"] = url

        mode = env.get("KINWARD_ENV", "").strip()
        if mode:
            if mode not in ENVIRONMENTS:
                raise SettingsError(f"KINWARD_ENV must be one of {', '.join(ENVIRONMENTS)}; got {mode!r}")
            values["env"] = mode

        key = env.get("KINWARD_SECRET_KEY", "")
        if key:
            if len(key) < 32:
                raise SettingsError("KINWARD_SECRET_KEY must be at least 32 characters long")
            values["secret_key"] = key
            values["audit_key"] = hmac.new(key.encode(), b"kinward audit chain", hashlib.sha256).hexdigest()
        elif values.get("env") == "production":
            raise SettingsError("KINWARD_SECRET_KEY must be set when KINWARD_ENV=production")
        else:
            # `serve --workers 2`: a form one process served is checked by the other with the same secret.
            values["secret_key"] = development_secret(development_secret_file)

        for name, attr, low, high in (
            ("KINWARD_SESSION_IDLE_MINUTES", "session_idle_minutes", 1, 24 * 60),
            ("KINWARD_SESSION_ABSOLUTE_HOURS", "session_absolute_hours", 1, 24),
            ("KINWARD_PASSWORD_HASH_CONCURRENCY", "password_hash_concurrency", 1, 64),
            ("KINWARD_SMTP_PORT", "smtp_port", 1, 65535),
            ("KINWARD_AUDIT_CHECKPOINT_MINUTES", "audit_checkpoint_minutes", 1, 24 * 60),
            ("KINWARD_BACKUP_INTERVAL_HOURS", "backup_interval_hours", 1, 24 * 7),
        ):
            raw = env.get(name, "").strip()
            if raw:
                values[attr] = _int_in_range(name, raw, low, high)

        hashing = env.get("KINWARD_PASSWORD_HASHING", "").strip()
        if hashing:
            values["password_hashing"] = hashing  # checked with the other values in __post_init__

        audit_key = env.get("KINWARD_AUDIT_KEY", "")
        if audit_key:
            if len(audit_key) < 32:
                raise SettingsError("KINWARD_AUDIT_KEY must be at least 32 characters long")
            values["audit_key"] = audit_key
        if env.get("KINWARD_AUDIT_CHECKPOINT", "").strip():
            values["audit_checkpoint_path"] = env["KINWARD_AUDIT_CHECKPOINT"].strip()

        if env.get("KINWARD_SMTP_HOST"):
            values["smtp_host"] = env["KINWARD_SMTP_HOST"].strip()
        values.update(_mail_settings(env))
        values.update(_backup_settings(env))
        if values.get("env") == "production" and values.get("smtp_host") and "base_url" not in values:
            raise SettingsError("KINWARD_BASE_URL must be set when KINWARD_SMTP_HOST is set in production: "
                                "links in emails start with it")
        return cls(**values)  # type: ignore[arg-type]


def development_secret(path: Path) -> str:
    """The secret every process of a development checkout shares: made once, readable by its owner only.

    The first process writes it under a temporary name and links it into place, which fails when
    another process got there first: every process ends up reading the one file, never half of it.
    """
    try:
        return _secret_in(path)
    except FileNotFoundError:
        pass
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    except OSError as error:
        raise SettingsError(f"KINWARD_SECRET_KEY is not set and the development secret cannot be kept in "
                            f"{path}: {error.strerror}") from None
    finally:
        draft.unlink(missing_ok=True)
    return _secret_in(path)


def _secret_in(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 32:
        raise SettingsError(f"{path} must hold a secret of at least 32 characters; remove it to have a new one made")
    return key


def _mail_settings(env: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    user = env.get("KINWARD_SMTP_USER", "").strip()
    password = env.get("KINWARD_SMTP_PASSWORD", "")
    if bool(user) != bool(password):
        raise SettingsError("KINWARD_SMTP_USER and KINWARD_SMTP_PASSWORD must be set together")
    if user:
        values["smtp_user"], values["smtp_password"] = user, password
    sender = env.get("KINWARD_SMTP_FROM", "").strip()
    if sender:
        address = parseaddr(sender)[1]
        if "@" not in address or any(c in sender for c in "\r\n"):
            raise SettingsError(f"KINWARD_SMTP_FROM must be an email address, like Kinward <care@example.org>; "
                                f"got {sender!r}")
        values["smtp_from"] = sender
    starttls = env.get("KINWARD_SMTP_STARTTLS", "").strip().lower()
    if starttls:
        if starttls not in STARTTLS_MODES:
            raise SettingsError(f"KINWARD_SMTP_STARTTLS must be one of {', '.join(STARTTLS_MODES)}; got {starttls!r}")
        values["smtp_starttls"] = starttls
    if user and values.get("smtp_starttls") == "no":
        raise SettingsError("KINWARD_SMTP_STARTTLS=no would send the SMTP password unencrypted; use auto or yes")
    base_url = env.get("KINWARD_BASE_URL", "").strip()
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise SettingsError(f"KINWARD_BASE_URL must be the address people open, like https://care.example.org; "
                                f"got {base_url!r}")
        values["base_url"] = base_url.rstrip("/")
    return values


def _backup_settings(env: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    directory = env.get("KINWARD_BACKUP_DIR", "").strip()
    if directory:
        if not Path(directory).is_absolute():
            raise SettingsError(f"KINWARD_BACKUP_DIR must be an absolute path; got {directory!r}")
        values["backup_dir"] = directory
    passphrase = env.get("KINWARD_BACKUP_PASSPHRASE", "")
    if passphrase:
        if len(passphrase) < 15:
            raise SettingsError("KINWARD_BACKUP_PASSPHRASE must be at least 15 characters long")
        values["backup_passphrase"] = passphrase
    return values


def _int_in_range(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number; got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}; got {value}")
    return value


def settings_for_command() -> Settings:
    """The settings a `kinward` command runs with; a configuration error ends the command, saying what is wrong."""
    try:
        return Settings.from_env()
    except SettingsError as error:
        sys.exit(f"kinward: configuration error: {error}")
