"""Benchmark the claims: gas and wall time per step, confirmations/s via the service.

Measures, on the in-process chain and on a local anvil node (automine):
  1. gas and wall time (send + receipt) of confirm+mint, an offer purchase, a unit
     transfer, a repayment and a redemption, each the median over N claims;
  2. confirmations per second through the service: the buyer fetches the typed
     data, signs it and posts it; the service checks it, relays confirm() and
     indexes the claim, one after the other (one client).

Targets: confirm+mint at most 120,000 gas; offer purchase at most 120,000 gas.

Usage: python scripts/bench_claims.py [--claims N] [--confirmations M]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import machine, record_section
from eth_account import Account
from fastapi.testclient import TestClient

from api.anchoring.service import AnchoringConfig
from api.anchoring.worker import Worker
from api.app import create_app
from api.claims.runtime import ClaimsRuntime
from api.runtime import ChainRuntime
from api.settings import Settings
from registry import samples
from registry.anchoring import Anchorer
from registry.chain import ChainClient
from registry.claims import (
    DAY_SECONDS,
    ZERO_ADDRESS,
    ClaimsClient,
    Confirmation,
    Offer,
    Step,
    advance_time,
    chain_time,
    party_client,
    sign_typed_data,
    typed_data,
)
from registry.devchain import ANVIL_KEYS, start_anvil
from registry.hashing import keccak256
from registry.merkle import build_batch

STEPS = ("confirm+mint", "offer purchase", "transfer", "repay", "redeem")
FACE = 1_000_000


def _chain(kind: str, rpc: str | None) -> tuple[ChainClient, list[str]]:
    if rpc is None:
        client = ChainClient.in_process()
        tester: Any = client.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        keys = ["0x" + k.to_bytes().hex() for k in tester.backend.account_keys]
        return client, keys
    return ChainClient.connect(rpc, ANVIL_KEYS[0]), list(ANVIL_KEYS)


def _timed(
    samples_: dict[str, list[tuple[int, float]]], name: str, act: Callable[[], Step]
) -> None:
    started = time.perf_counter()
    step = act()
    samples_[name].append((step.gas_used, (time.perf_counter() - started) * 1000))


def steps(
    client: ChainClient, keys: list[str], count: int
) -> dict[str, tuple[int, float]]:
    """Median (gas, ms) of each step over ``count`` claims."""
    anchorer = Anchorer.deploy(client)
    operator = ClaimsClient.deploy(
        party_client(client, keys[1]), anchorer.registry_address
    )
    parties = [Account.create() for _ in range(4)]
    for party in parties:
        client.wait([client.transfer_ether(party.address, 10**18)])
    seller, buyer, funder, supplier = (
        operator.for_signer(party_client(client, p.key)) for p in parties
    )
    for party in (seller, funder, supplier):
        operator.register_party(party.address)
    operator.register_party(buyer.address, buyer.address)
    for payer in (buyer, funder):
        operator.mint(payer.address, 10 * FACE * count)
        payer.approve()
    roots = [
        keccak256(f"bench-claim-{i}-{time.time_ns()}".encode()) for i in range(count)
    ]
    batch = build_batch(roots)
    anchorer.anchor([batch])
    domain = operator.domain()
    now = chain_time(client)
    measured: dict[str, list[tuple[int, float]]] = {name: [] for name in STEPS}

    for root in roots:
        confirmation = Confirmation(
            root,
            batch.root,
            seller.address,
            buyer.address,
            operator.currency,
            FACE,
            now + 60 * DAY_SECONDS,
            operator.nonce_of(buyer.address),
            now + DAY_SECONDS,
        )
        signature = sign_typed_data(parties[1].key, typed_data(domain, confirmation))
        _timed(
            measured,
            "confirm+mint",
            lambda c=confirmation, s=signature, r=root: operator.confirm(
                c, s, batch.proof(r)
            ),
        )
        claim_id = confirmation.claim_id
        offer = Offer(
            claim_id,
            FACE * 6 // 10,
            FACE * 59 // 100,
            seller.address,
            ZERO_ADDRESS,
            seller.offer_status(claim_id, seller.address)[0],
            now + DAY_SECONDS,
        )
        offer_signature = sign_typed_data(parties[0].key, typed_data(domain, offer))
        _timed(
            measured,
            "offer purchase",
            lambda o=offer, s=offer_signature: funder.buy(o, s, o.units, o.price),
        )
        _timed(
            measured,
            "transfer",
            lambda c=claim_id: seller.transfer(supplier.address, c, FACE // 5),
        )
    advance_time(client, 61 * DAY_SECONDS)
    for root in roots:
        claim_id = int.from_bytes(root, "big")
        _timed(measured, "repay", lambda c=claim_id: buyer.repay(c, FACE))
        _timed(measured, "redeem", lambda c=claim_id: funder.redeem(c, funder.address))
    return {
        name: (
            int(statistics.median(g for g, _ in values)),
            statistics.median(ms for _, ms in values),
        )
        for name, values in measured.items()
    }


def confirmations_per_second(client: ChainClient, keys: list[str], count: int) -> float:
    """Confirmations/s through the service (fetch typed data, sign, post, index)."""
    registry = Anchorer.deploy(client).registry_address
    claims = ClaimsClient.deploy(party_client(client, keys[1]), registry)
    chain = ChainRuntime(client, registry, client.chain_id(), confirmations=1)
    chain.claims = ClaimsRuntime.of(claims, confirmations=1)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), operator_token="bench-operator")
        app = create_app(settings, chain)
        worker = Worker(
            app.state.database,
            client,
            AnchoringConfig(
                contract=registry, batch_age_seconds=0, confirmations=1, batch_size=4096
            ),
        )
        with TestClient(app) as http:
            operator = {"Authorization": "Bearer bench-operator"}
            accounts = {}
            for role, tax_id in (
                ("seller", samples.SELLER["tax_id"]),
                ("buyer", samples.BUYER["tax_id"]),
            ):
                account = Account.create()
                created = http.post(
                    "/v1/parties",
                    headers=operator,
                    json={
                        "role": role,
                        "name": role,
                        "tax_id": tax_id,
                        "eth_address": account.address,
                    },
                ).json()
                accounts[role] = (
                    account,
                    {"Authorization": f"Bearer {created['token']}"},
                )
            ids = []
            for i in range(count):
                record = samples.invoice(number=f"INV-B-{i:05d}")
                ids.append(
                    http.post(
                        "/v1/documents", json=record, headers=accounts["seller"][1]
                    ).json()["id"]
                )
            for _ in range(3):
                worker.run_cycle()
            buyer, headers = accounts["buyer"]
            http.get(f"/v1/claims/invoices/{ids[0]}/confirmation", headers=headers)
            started = time.perf_counter()
            for document_id in ids:
                path = f"/v1/claims/invoices/{document_id}/confirmation"
                served = http.get(path, headers=headers).json()
                signature = sign_typed_data(buyer.key, served["typed_data"])
                response = http.post(
                    path,
                    headers=headers,
                    json={
                        "typed_data": served["typed_data"],
                        "signature": "0x" + signature.hex(),
                    },
                )
                assert response.status_code == 201, response.text
            elapsed = time.perf_counter() - started
        app.state.database.dispose()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--confirmations", type=int, default=100)
    args = parser.parse_args()

    results: dict[str, dict[str, tuple[int, float]]] = {}
    rates: dict[str, float] = {}
    with start_anvil() as node:
        for kind, rpc in (("in-process", None), ("anvil", node.rpc_url)):
            client, keys = _chain(kind, rpc)
            results[kind] = steps(client, keys, args.claims)
            client, keys = _chain(kind, rpc)
            rates[kind] = confirmations_per_second(client, keys, args.confirmations)
            print(kind, results[kind], f"{rates[kind]:.1f} confirmations/s", flush=True)

    lines = [
        "## Claims",
        "",
        f"Machine: {machine()}. Median over {args.claims} claims; wall time is send "
        "plus receipt, one transaction at a time.",
        "",
        "| step | gas | target | in-process ms | anvil ms |",
        "|---|---:|---:|---:|---:|",
    ]
    targets = {"confirm+mint": "≤ 120,000", "offer purchase": "≤ 120,000"}
    for name in STEPS:
        gas = results["anvil"][name][0]
        lines.append(
            f"| {name} | {gas:,} | {targets.get(name, '')} | "
            f"{results['in-process'][name][1]:.1f} | {results['anvil'][name][1]:.1f} |"
        )
    lines += [
        "",
        f"Confirmations through the service ({args.confirmations}, one client: fetch "
        "typed data, sign, post; checked, relayed, indexed): "
        f"{rates['in-process']:.1f}/s in-process, {rates['anvil']:.1f}/s on anvil.",
    ]
    for line in lines:
        print(line)
    record_section("claims", "\n".join(lines))
    print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
