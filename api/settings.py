"""Service settings, read from ``RECEIVABLES_*`` environment variables.

Secrets (the master key, the fingerprint key) are ``SecretStr`` so they never show in a
``repr`` or a log line. On the embedded defaults each secret is generated once and kept
in the data directory with 0600 permissions, so a restart reads the same key back:
losing the master key makes every stored document unreadable, losing the fingerprint
key makes every stored fingerprint unmatchable.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from registry.errors import ConfigurationError

KEY_LENGTH = 32


def _default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / (
        "receivables"
    )


class Settings(BaseSettings):
    """Everything the service needs to start; see the module docstring for secrets."""

    model_config = SettingsConfigDict(env_prefix="RECEIVABLES_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    """SQLAlchemy URL; None means a SQLite file ``registry.sqlite`` in ``data_dir``."""
    rpc_url: SecretStr | None = None
    """EVM JSON-RPC endpoint; None means the embedded chain. Secret: URLs embed keys."""
    signer_key: SecretStr | None = None
    """Hex private key that holds the registry's anchorer role; None: the embedded
    chain's development key (refused with a real chain)."""
    registry_address: str | None = None
    """The ReceivableRegistry contract; None: the one recorded in the database, or
    (embedded chain only) a new deployment on first start."""
    master_key: SecretStr | None = None
    """Base64 of 32 bytes wrapping every document's data key; None: from data_dir."""
    fingerprint_key: SecretStr | None = None
    """Base64 of 32 bytes keying invoice fingerprints; None: from data_dir."""
    operator_token: SecretStr | None = None
    """Bearer token of the bootstrap operator; None: generated and kept in data_dir."""
    claims_key: SecretStr | None = None
    """Hex private key of the claims operator (ClaimToken admin and operator; relays
    confirmations); None: the embedded chain's second development key, or (real
    chain) no claims."""
    claim_token_address: str | None = None
    """The ClaimToken on a real chain; None: the recorded one, or (embedded chain
    only) a new deployment on first start."""
    settlement_token_address: str | None = None
    """The currency token claims settle in; None: as the claim token."""
    chain_confirmations: int = Field(default=12, ge=0)
    batch_size: int = Field(default=256, ge=1)
    batch_max_age_seconds: float = Field(default=10.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=5_000, ge=0)
    pool_size: int = Field(default=10, ge=1)
    idempotency_wait_seconds: float = Field(default=5.0, ge=0)
    """How long a request waits for a concurrent one holding the same key."""
    idempotency_lease_seconds: float = Field(default=60.0, gt=0)
    """After this long an unfinished key is presumed crashed and may be taken over."""
    retry_after_seconds: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _check_keys(self) -> Settings:
        for name in ("master_key", "fingerprint_key"):
            value = getattr(self, name)
            if value is not None:
                decode_key(value.get_secret_value(), name)
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'registry.sqlite'}"

    def master_key_bytes(self) -> bytes:
        """The 32-byte master key (generated into the data directory if unset)."""
        return self._key("master_key", "master.key")

    def fingerprint_key_bytes(self) -> bytes:
        """The 32-byte fingerprint key (generated into the data directory if unset)."""
        return self._key("fingerprint_key", "fingerprint.key")

    def _key(self, name: str, filename: str) -> bytes:
        value: SecretStr | None = getattr(self, name)
        if value is not None:
            return decode_key(value.get_secret_value(), name)
        return decode_key(read_or_create_secret(self.data_dir / filename), filename)


def decode_key(text: str, name: str) -> bytes:
    """Decode a base64 32-byte key.

    Raises:
        ConfigurationError: not base64, or not 32 bytes (the value is never echoed).
    """
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ConfigurationError(f"{name} is not valid base64") from err
    if len(key) != KEY_LENGTH:
        raise ConfigurationError(f"{name} must decode to {KEY_LENGTH} bytes")
    return key


def read_or_create_secret(path: Path) -> str:
    """Read a base64 secret from ``path``, creating it (0600) on first use.

    The secret is written to a private temporary file and hard-linked into place, so
    two processes starting at once agree on one key and neither reads a half-written
    file: the loser of the link reads the winner's secret.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(KEY_LENGTH)).decode() + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()
