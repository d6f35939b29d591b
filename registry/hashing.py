"""Hash primitives shared by every hashed structure in the registry.

Invariants:
    * ``keccak256`` is Ethereum's Keccak-256 (the pre-standard padding), never
      ``hashlib.sha3_256``. keccak256(b"") is
      c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470.
    * The fastest available backend is chosen explicitly (safe-pysha3, then
      pycryptodome); both give identical digests, so the choice never changes a hash.
"""

from __future__ import annotations

from collections.abc import Callable

from registry.errors import ConfigurationError


def _pick_backend() -> Callable[[bytes], bytes]:
    try:
        from sha3 import keccak_256  # safe-pysha3: ~6x faster than pycryptodome

        def _pysha3(data: bytes) -> bytes:
            return bytes(keccak_256(data).digest())

        return _pysha3
    except ImportError:  # pragma: no cover - exercised only without safe-pysha3
        pass
    try:  # pragma: no cover
        from Crypto.Hash import keccak

        def _pycryptodome(data: bytes) -> bytes:
            return bytes(keccak.new(digest_bits=256, data=data).digest())

        return _pycryptodome
    except ImportError as err:  # pragma: no cover
        raise ConfigurationError(
            "no Keccak-256 backend: install safe-pysha3 or pycryptodome"
        ) from err


keccak256: Callable[[bytes], bytes] = _pick_backend()
"""Keccak-256 of ``data`` as 32 bytes."""
