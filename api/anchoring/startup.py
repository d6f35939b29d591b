"""The start-up check: is this the chain and the contract our records are about?

``check_chain`` refuses to start (``ConfigurationError``, with a message saying what
differs) when:

* the endpoint's chain id is not the one recorded at the first start;
* the registry address is not the recorded one, holds no code, or holds code other
  than the compiled ``ReceivableRegistry``;
* a batch recorded as final is not anchored on that chain (``anchorOf``), or is
  anchored with another document count.

Comparing code: solc appends a CBOR metadata section (its length in the last two
bytes) holding a hash of the sources' metadata, which changes with comments and
paths; it is cut from both sides before comparing, so only executable code is
compared. ``ReceivableRegistry`` has no immutables; a contract with immutables would
also need their byte ranges masked (solc's ``immutableReferences``) before comparing.

On the first start the deployment (chain id, address, code hash, block) is recorded
in ``chain_deployments``; later starts compare with it.
"""

from __future__ import annotations

import logging

from eth_utils.address import to_checksum_address
from sqlalchemy.orm import Session

from api.anchoring import repository
from api.anchoring.models import BatchStatus, ChainDeployment
from registry.chain import ChainClient
from registry.compiler import artifact
from registry.errors import ConfigurationError
from registry.hashing import keccak256

logger = logging.getLogger(__name__)

DEPLOYMENT = "registry"
CONTRACT_NAME = "ReceivableRegistry"


def executable_code(code: bytes) -> bytes:
    """Runtime code without solc's trailing CBOR metadata section."""
    if len(code) < 2:
        return code
    metadata_length = int.from_bytes(code[-2:], "big")
    if metadata_length + 2 > len(code):
        return code
    return code[: -(metadata_length + 2)]


def expected_code_hash() -> bytes:
    """keccak256 of the compiled registry's executable runtime code."""
    compiled = bytes.fromhex(artifact(CONTRACT_NAME).deployed_bytecode[2:])
    return keccak256(executable_code(compiled))


def check_chain(
    session: Session, client: ChainClient, contract: str
) -> ChainDeployment:
    """Check the chain against what the database recorded; record it the first time.

    Runs in the caller's transaction (the caller commits the first record).

    Returns:
        The recorded deployment.

    Raises:
        ConfigurationError: the chain or contract differs (the message says how).
        ChainUnavailableError: the endpoint does not answer.
    """
    address = to_checksum_address(contract)
    chain_id = client.chain_id()
    recorded = repository.deployment(session, DEPLOYMENT)
    if recorded is not None:
        _same_deployment(recorded, chain_id, address)

    code_hash = _code_hash(client, address, chain_id)
    if recorded is None:
        # Several workers may start at once: the first insert wins, all compare.
        repository.record_deployment(
            session,
            DEPLOYMENT,
            chain_id=chain_id,
            address=address,
            code_hash=code_hash,
            block_number=client.latest_block_number(),
        )
        recorded = repository.deployment(session, DEPLOYMENT)
        assert recorded is not None
        _same_deployment(recorded, chain_id, address)
        logger.info(
            "chain.deployment_checked chain_id=%d contract=%s", chain_id, address
        )
    if recorded.code_hash != code_hash:
        raise ConfigurationError(
            f"the code at {address} changed since it was recorded "
            f"(code hash 0x{code_hash.hex()}, recorded 0x{recorded.code_hash.hex()})"
        )

    _final_batches_anchored(session, client, address, chain_id)
    return recorded


def _same_deployment(recorded: ChainDeployment, chain_id: int, address: str) -> None:
    if recorded.chain_id != chain_id:
        raise ConfigurationError(
            f"the endpoint is chain {chain_id}, but this database's anchors are on "
            f"chain {recorded.chain_id}; point --rpc at that chain"
        )
    if recorded.address != address:
        raise ConfigurationError(
            f"the registry contract is {address}, but this database's anchors are "
            f"in {recorded.address}; point --contract at that address"
        )


def _code_hash(client: ChainClient, address: str, chain_id: int) -> bytes:
    code = client.code(address)
    if not code:
        raise ConfigurationError(
            f"no contract code at {address} on chain {chain_id}: "
            "the registry is not deployed there (wrong address or a reset chain)"
        )
    code_hash = keccak256(executable_code(code))
    if code_hash != expected_code_hash():
        raise ConfigurationError(
            f"the code at {address} on chain {chain_id} is not the "
            f"{CONTRACT_NAME} this service was built with"
        )
    return code_hash


def _final_batches_anchored(
    session: Session, client: ChainClient, address: str, chain_id: int
) -> None:
    for batch in repository.batches_in(session, [BatchStatus.FINAL]):
        record = client.anchor_of(address, batch.batch_root)
        if record is None or record.document_count != batch.size:
            raise ConfigurationError(
                f"batch {batch.id} (root 0x{batch.batch_root.hex()}) is recorded as "
                f"final but is not anchored in {address} on chain {chain_id}: "
                "this chain is not the one the database was anchored on"
            )
