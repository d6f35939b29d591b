"""The claim token the service relays to: found, deployed (local chains) and checked.

Invariants:
    * Claim transactions are signed by their own key (the *claims operator*: admin,
      operator and, on local chains, minter of the settlement token), never by the
      anchoring worker's key: the worker hands out its nonces from the database and
      would collide with a second sender on the same key.
    * On the embedded chain the ClaimToken and a SettlementToken are deployed on the
      first start and recorded in ``chain_deployments`` (``claim_token``,
      ``settlement_token``); later starts check that code is still there. On a real
      chain both addresses come from the settings and nothing is deployed.
    * Every chain write of the operator key goes through :attr:`ClaimsRuntime.lock`,
      so one process never races itself for a nonce.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from eth_utils.address import to_checksum_address
from sqlalchemy.orm import Session

from api.anchoring import repository as anchoring
from api.db import Database
from api.settings import Settings
from registry.chain import ChainClient
from registry.claims import ClaimsClient, Domain, party_client
from registry.devchain import ANVIL_KEYS
from registry.errors import ConfigurationError
from registry.hashing import keccak256

logger = logging.getLogger(__name__)

CLAIM_TOKEN = "claim_token"  # noqa: S105 - a deployment's name, not a secret
SETTLEMENT_TOKEN = "settlement_token"  # noqa: S105
LOCAL_GAS_ALLOWANCE_WEI = 10**18
"""Gas money a new party gets on a local chain, so it can send its own transactions."""


@dataclass
class ClaimsRuntime:
    """The claims operator's client, the token's EIP-712 domain, and how final is."""

    claims: ClaimsClient
    domain: Domain
    confirmations: int = 1
    start_block: int = 0
    gas_allowance_wei: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def client(self) -> ChainClient:
        return self.claims.client

    @classmethod
    def of(
        cls,
        claims: ClaimsClient,
        *,
        confirmations: int = 1,
        start_block: int = 0,
        gas_allowance_wei: int = 0,
    ) -> ClaimsRuntime:
        return cls(
            claims, claims.domain(), confirmations, start_block, gas_allowance_wei
        )


def connect_claims(
    settings: Settings,
    database: Database,
    chain_client: ChainClient,
    registry: str,
    *,
    embedded: bool,
    confirmations: int,
) -> ClaimsRuntime | None:
    """The claims runtime for ``receivables serve``; None when not configured.

    Raises:
        ConfigurationError: a recorded or configured address holds no code.
    """
    key = _secret(settings.claims_key) or (ANVIL_KEYS[1] if embedded else None)
    if key is None:
        logger.warning("claims.disabled reason=no_claims_key")
        return None
    client = party_client(chain_client, key)
    with database.sessions() as session:
        token = settings.claim_token_address or _recorded(session, CLAIM_TOKEN)
        currency = settings.settlement_token_address or _recorded(
            session, SETTLEMENT_TOKEN
        )
        start_block = client.latest_block_number()
        if token is None or currency is None:
            if not embedded:
                logger.warning("claims.disabled reason=no_claim_token_address")
                return None
            claims = ClaimsClient.deploy(client, registry, currency=currency)
            token, currency = claims.claim_token, claims.currency
            logger.info("claims.deployed claim_token=%s currency=%s", token, currency)
        for name, address in ((CLAIM_TOKEN, token), (SETTLEMENT_TOKEN, currency)):
            _record(session, client, name, address, start_block)
        recorded = anchoring.deployment(session, CLAIM_TOKEN)
        session.commit()
    assert recorded is not None
    return ClaimsRuntime.of(
        ClaimsClient(client, token, currency),
        confirmations=confirmations,
        start_block=recorded.block_number,
        gas_allowance_wei=LOCAL_GAS_ALLOWANCE_WEI if embedded else 0,
    )


def _recorded(session: Session, name: str) -> str | None:
    row = anchoring.deployment(session, name)
    return row.address if row else None


def _record(
    session: Session, client: ChainClient, name: str, address: str, block: int
) -> None:
    code = client.code(address)
    if not code:
        raise ConfigurationError(
            f"no contract code at {address} (the {name.replace('_', ' ')}) on chain "
            f"{client.chain_id()}: wrong address or a reset chain"
        )
    anchoring.record_deployment(
        session,
        name,
        chain_id=client.chain_id(),
        address=to_checksum_address(address),
        code_hash=keccak256(code),
        block_number=block,
    )


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else None
