"""One error tree for the registry core.

Every error the core raises derives from :class:`RegistryError`. Leaves are named for
what happened and carry the values that caused it, so callers (the API, the command
line, an auditor's script) can react to the type and its attributes, never to text.
Third-party errors (web3, solc) are translated at the boundary with ``raise ... from``.
"""

from __future__ import annotations

from collections.abc import Sequence


class RegistryError(Exception):
    """Root of every error raised by the registry core."""


class RecordError(RegistryError):
    """The caller's data is wrong; the caller can fix it.

    Attributes:
        field: the JSON Pointer (RFC 6901) of the offending field, or "" for the whole
            record.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field or '<record>'}: {message}")


class InvalidAmountError(RecordError):
    """An amount is not a whole, positive number of the currency's minor units."""


class RecordValidationError(RecordError):
    """A record has one or more invalid fields; ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[RecordError]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else RecordError("", "invalid record")
        super().__init__(first.field, first.message)
        if len(self.problems) > 1:
            self.args = (
                "; ".join(
                    f"{p.field or '<record>'}: {p.message}" for p in self.problems
                ),
            )


class ProofError(RegistryError):
    """A document, field or bundle does not match its proof or the chain."""


class BundleFormatError(ProofError):
    """An evidence bundle is not well formed (missing keys, wrong version, bad hex)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ChainError(RegistryError):
    """Something on the chain side failed; often worth retrying."""


class TransactionRevertedError(ChainError):
    """A transaction or call reverted; ``error_name`` and ``error_args`` are decoded."""

    def __init__(
        self, error_name: str, error_args: Sequence[object], tx_hash: str | None = None
    ) -> None:
        self.error_name = error_name
        self.error_args = tuple(error_args)
        self.tx_hash = tx_hash
        rendered = ", ".join(repr(a) for a in self.error_args)
        where = f" in transaction {tx_hash}" if tx_hash else ""
        super().__init__(f"reverted with {error_name}({rendered}){where}")


class ConfirmationTimeoutError(ChainError):
    """A transaction did not reach the wanted confirmations in time."""

    def __init__(self, tx_hash: str, waited_seconds: float) -> None:
        self.tx_hash = tx_hash
        self.waited_seconds = waited_seconds
        super().__init__(
            f"transaction {tx_hash} not confirmed after {waited_seconds:.1f} s"
        )


class ChainUnavailableError(ChainError):
    """The JSON-RPC endpoint could not be reached or did not answer."""


class ConfigurationError(RegistryError):
    """The registry is configured wrongly (compiler, chain id, contract, keys)."""
