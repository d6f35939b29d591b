"""``receivables demo``: one trade, anchored, bundled, verified, then tampered with.

The story runs on an in-process chain by default (nothing to start), or on any
JSON-RPC endpoint with ``--rpc``. It prints a timeline with the elapsed time and the
gas of each step, and writes the bundles to a folder so they can be verified again
with ``receivables verify``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from registry import samples
from registry.anchoring import Anchorer
from registry.bundle import dump_bundle, make_bundle
from registry.chain import ChainClient
from registry.cli import bundle_anchor, bundle_file_name, print_verdict
from registry.document import seal_document
from registry.merkle import build_batch
from registry.verify import verify_bundle

FUNDER_FIELDS = ("/currency", "/due_on", "/buyer/tax_id", "/number", "/total_minor")


@dataclass
class _Timeline:
    started: float = field(default_factory=time.perf_counter)
    steps: list[tuple[float, str, str]] = field(default_factory=list)

    def step(self, what: str, detail: str = "") -> None:
        elapsed = (time.perf_counter() - self.started) * 1000
        self.steps.append((elapsed, what, detail))
        print(f"{elapsed:9.1f} ms  {what}" + (f"  ({detail})" if detail else ""))


def _client(rpc: str | None, key: str | None) -> tuple[ChainClient, str]:
    if rpc is None:
        return ChainClient.in_process(), "in-process EVM (py-evm)"
    if key is None:
        from registry.devchain import ANVIL_KEYS

        key = ANVIL_KEYS[0]
    return ChainClient.connect(rpc, key), "JSON-RPC endpoint"


def run_demo(out: Path, *, rpc: str | None = None, key: str | None = None) -> int:
    """Run the story; returns 0 when every check came out as expected."""
    timeline = _Timeline()
    print("Timeline (elapsed since start)")
    client, kind = _client(rpc, key)
    timeline.step("connected to chain", f"{kind}, chain id {client.chain_id()}")
    anchorer = Anchorer.deploy(client)
    timeline.step("deployed ReceivableRegistry", anchorer.registry_address)

    order = seal_document(samples.purchase_order())
    timeline.step(
        "seller registered purchase order PO-2026-0412",
        f"{order.field_count} salted fields, root 0x{order.root.hex()[:16]}…",
    )
    delivery = seal_document(samples.delivery_note(order_root="0x" + order.root.hex()))
    timeline.step(
        "seller registered delivery note DN-2026-0977",
        f"linked to the order's root, root 0x{delivery.root.hex()[:16]}…",
    )
    invoice = seal_document(samples.invoice())
    timeline.step(
        "seller registered invoice INV-2026-1187",
        f"total {invoice.record['total_minor']} EUR cents, "
        f"root 0x{invoice.root.hex()[:16]}…",
    )

    documents = [order, delivery, invoice]
    batch = build_batch([d.root for d in documents])
    facts = anchorer.anchor([batch])[0]
    timeline.step(
        f"anchored batch {facts.batch_id} of {batch.size} documents",
        f"block {facts.block_number}, {facts.gas_used} gas "
        f"({facts.gas_used // batch.size} per document)",
    )

    out.mkdir(parents=True, exist_ok=True)
    anchor = bundle_anchor(facts)
    paths = []
    for document in documents:
        target = out / bundle_file_name(document)
        target.write_text(dump_bundle(make_bundle(document, batch, anchor)))
        paths.append(target)
    funder_bundle = make_bundle(invoice, batch, anchor, disclose=FUNDER_FIELDS)
    funder_path = out / "invoice-INV-2026-1187.funder.json"
    funder_path.write_text(dump_bundle(funder_bundle))
    timeline.step(f"wrote {len(paths) + 1} evidence bundles", str(out))

    ok = True
    for path in [*paths, funder_path]:
        verdict = verify_bundle(path.read_text(), client)
        ok &= verdict.valid
        timeline.step(
            f"auditor verified {path.name}",
            "VALID" if verdict.valid else f"INVALID: {verdict.reason}",
        )

    ok &= _tamper(client, paths[2], timeline)
    total = timeline.steps[-1][0]
    print(
        f"\nDone in {total / 1000:.2f} s. Bundles are in {out}/; check one again with"
    )
    print(f"  receivables verify {paths[2]} --offline")
    return 0 if ok else 1


def _tamper(client: ChainClient, invoice_path: Path, timeline: _Timeline) -> bool:
    """Flip one byte of the invoice bundle's total, then of a proof; both must fail."""
    original = invoice_path.read_text()
    data = json.loads(original)
    total_field = next(
        f for f in data["document"]["fields"] if f["path"] == "/total_minor"
    )
    total_field["value"] += 1  # one cent more
    verdict = verify_bundle(data, client)
    timeline.step(
        "a forger changed the invoice total by one cent",
        "rejected" if not verdict.valid else "ACCEPTED (this is a bug)",
    )
    print_verdict(verdict, verbose=False)

    data = json.loads(original)
    proof = data["batch"]["proof"]
    if proof:
        digit = "1" if proof[0][-1] != "1" else "2"
        proof[0] = proof[0][:-1] + digit
    else:  # a batch of one has no proof: tamper the anchored block number instead
        data["anchor"]["block_number"] += 1
    second = verify_bundle(data, client)
    timeline.step(
        "a forger flipped one byte of the batch proof",
        "rejected" if not second.valid else "ACCEPTED (this is a bug)",
    )
    print_verdict(second, verbose=False)
    return not verdict.valid and not second.valid
