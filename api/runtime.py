"""Putting the running service together: database, chain, start-up check, worker.

Invariants:
    * On the embedded defaults the chain is a local anvil node started from
      ``node_modules`` whose state file (``chain-state.json``) lives beside the SQLite
      file in the data directory, written every two seconds and at stop: the two
      survive a restart together. Blocks, hashes and the registry contract persist.
    * Every start checks the chain against the database (chain id, the registry's
      code, every final batch anchored) before serving; a mismatch refuses to start
      with a message that says what differs. Nothing is deployed on a real chain
      without being asked (``receivables deploy``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account

from api.anchoring.repository import deployment
from api.anchoring.service import AnchoringConfig
from api.anchoring.startup import DEPLOYMENT, check_chain
from api.anchoring.worker import Worker
from api.claims.runtime import ClaimsRuntime
from api.db import Database
from api.models import Party, PartyRole
from api.parties.schemas import PartyCreate
from api.parties.service import create_party
from api.settings import Settings
from registry import samples
from registry.anchoring import Anchorer
from registry.chain import ChainClient
from registry.devchain import ANVIL_KEYS, AnvilNode, start_anvil
from registry.errors import ConfigurationError

logger = logging.getLogger(__name__)

STATE_FILE = "chain-state.json"
CREDENTIALS_FILE = "demo-credentials.json"
EMBEDDED_BLOCK_SECONDS = 1.0
EMBEDDED_CONFIRMATIONS = 2


@dataclass
class ChainRuntime:
    """The chain the service talks to, with the registry it anchors in."""

    client: ChainClient
    contract: str
    chain_id: int
    confirmations: int
    node: AnvilNode | None = None
    claims: ClaimsRuntime | None = None
    """The claim token side (``api.claims.runtime.connect_claims``), if any."""

    @property
    def embedded(self) -> bool:
        return self.node is not None

    def close(self) -> None:
        """Stop the embedded node (it writes its state file first)."""
        if self.node is not None:
            self.node.stop()


def connect_chain(settings: Settings, database: Database) -> ChainRuntime:
    """Start or reach the chain, find or deploy the registry, check it, record it.

    Raises:
        ConfigurationError: no signing key for a real chain, no registry address for
            a real chain on first start, or a chain that does not match the database.
        ChainUnavailableError: the endpoint does not answer.
    """
    node = None
    key: str | None
    if settings.rpc_url is None:
        node = start_anvil(
            state_path=settings.data_dir / STATE_FILE,
            block_time=EMBEDDED_BLOCK_SECONDS,
            state_interval=2,
        )
        rpc_url = node.rpc_url
        key = _secret(settings.signer_key) or ANVIL_KEYS[0]
    else:
        rpc_url = settings.rpc_url.get_secret_value()
        key = _secret(settings.signer_key)
        if not key:
            raise ConfigurationError(
                "RECEIVABLES_SIGNER_KEY is required with a real chain: the key that "
                "holds the registry's anchorer role"
            )
    try:
        client = ChainClient.connect(rpc_url, key)
        contract = _registry_address(
            settings, database, client, embedded=node is not None
        )
    except BaseException:
        if node is not None:
            node.stop()
        raise
    confirmations = settings.chain_confirmations
    if node is not None and "chain_confirmations" not in settings.model_fields_set:
        confirmations = EMBEDDED_CONFIRMATIONS
    return ChainRuntime(client, contract, client.chain_id(), confirmations, node)


def _registry_address(
    settings: Settings, database: Database, client: ChainClient, *, embedded: bool
) -> str:
    with database.sessions() as session:
        recorded = deployment(session, DEPLOYMENT)
        address = settings.registry_address or (recorded.address if recorded else None)
        if address is None:
            if not embedded:
                raise ConfigurationError(
                    "no registry address: deploy one with `receivables deploy` and set "
                    "RECEIVABLES_REGISTRY_ADDRESS"
                )
            address = Anchorer.deploy(client).registry_address
            logger.info("chain.registry_deployed contract=%s", address)
        check_chain(session, client, address)
        session.commit()
    return address


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else None


@dataclass
class WorkerThread:
    """The anchoring worker running in this process (``receivables serve``)."""

    worker: Worker
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self, poll_seconds: float = 0.5) -> None:
        self.thread = threading.Thread(
            target=self.worker.run,
            args=(self.stop_event,),
            kwargs={"poll_seconds": poll_seconds},
            name="anchoring-worker",
            daemon=True,
        )
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


def anchoring_worker(
    settings: Settings, database: Database, chain: ChainRuntime
) -> WorkerThread:
    """A worker for the service's queue, signing with the chain client's key."""
    config = AnchoringConfig(
        contract=chain.contract,
        batch_size=settings.batch_size,
        batch_age_seconds=settings.batch_max_age_seconds,
        confirmations=chain.confirmations,
    )
    return WorkerThread(Worker(database, chain.client, config))


DEMO_PARTIES = (
    (PartyRole.SELLER, samples.SELLER["name"], samples.SELLER["tax_id"]),
    (PartyRole.BUYER, samples.BUYER["name"], samples.BUYER["tax_id"]),
    (PartyRole.FUNDER, "Hanse Receivables Fund", None),
    (PartyRole.AUDITOR, "Treuhand Audit", None),
)


def demo_credentials(database: Database, data_dir: Path) -> dict[str, str]:
    """Tokens of demo parties, created on the first start of an empty registry.

    The tokens are kept in ``demo-credentials.json`` (mode 0600) in the data
    directory, so later starts can print them again; a registry that already had
    parties other than the operator gets none.
    """
    path = data_dir / CREDENTIALS_FILE
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    with database.sessions() as session:
        others = session.query(Party).filter(Party.role != PartyRole.OPERATOR).count()
        if others:
            return {}
        tokens = {}
        for role, name, tax_id in DEMO_PARTIES:
            request = PartyCreate(
                role=role,
                name=name,
                tax_id=tax_id,
                eth_address=Account.create().address,
            )
            _party, token = create_party(session, request)
            tokens[role.value] = token
        session.commit()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(tokens, handle, indent=2)
    return tokens
