"""Benchmark the registry core; prints a table and records it in docs/benchmarks.md.

Measures, on one core (this process is single-threaded):
  1. documents per second through canonicalise + salt + hash + batch tree, from
     validated records, at batch sizes 1 to 4096; and, separately, how fast raw JSON
     records are validated (the step before);
  2. gas per document when anchoring batches, against one transaction per document,
     on the in-process chain, in the same run;
  3. offline verifications per second: a complete bundle (every field re-hashed), a
     one-field disclosure bundle, and the document-level check of a document root
     against its batch proof.

Usage: python scripts/bench_core.py [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics

from benchlib import machine, median_rate, record_section

from registry import samples
from registry.anchoring import Anchorer
from registry.bundle import make_bundle
from registry.chain import ChainClient
from registry.document import seal_document
from registry.merkle import build_batch, verify_batch_proof
from registry.records import parse_record
from registry.verify import verify_offline

BATCH_SIZES = (1, 4, 16, 64, 256, 1024, 4096)
GAS_BATCH_SIZES = (1, 16, 128, 1024, 4096)


def _invoices(count: int) -> list[dict[str, object]]:
    return [samples.invoice(number=f"INV-{i:07d}") for i in range(count)]


def throughput(batch_size: int, repeats: int, documents: int) -> float:
    """Documents/s through seal and the batch tree, in batches of ``batch_size``."""
    records = [parse_record(r) for r in _invoices(max(documents, batch_size))]

    def work() -> int:
        for start in range(0, len(records), batch_size):
            sealed = [seal_document(r) for r in records[start : start + batch_size]]
            build_batch([d.root for d in sealed])
        return len(records)

    return median_rate(work, repeats)


def validation_rate(repeats: int, documents: int) -> float:
    """Raw JSON-ready records validated per second (``parse_record``)."""
    raw = _invoices(documents)

    def work() -> int:
        for record in raw:
            parse_record(record)
        return len(raw)

    return median_rate(work, repeats)


def gas_per_document(client: ChainClient) -> tuple[list[tuple[int, int]], int]:
    """Gas per document for each batch size, and the gas of one single-document tx."""
    anchorer = Anchorer.deploy(client)
    batched = []
    for size in GAS_BATCH_SIZES:
        batch = build_batch([os.urandom(32) for _ in range(size)])
        facts = anchorer.anchor([batch])[0]
        batched.append((size, facts.gas_used))
    singles = [
        anchorer.anchor([build_batch([os.urandom(32)])])[0].gas_used for _ in range(16)
    ]
    return batched, int(statistics.median(singles))


def verifications(repeats: int) -> dict[str, float]:
    """Offline verifications/s for three kinds of check on a 1024-document batch."""
    sealed = [seal_document(r) for r in _invoices(1024)]
    batch = build_batch([d.root for d in sealed])
    complete = [make_bundle(d, batch) for d in sealed[:256]]
    disclosed = [make_bundle(d, batch, disclose=["/total_minor"]) for d in sealed[:256]]
    proofs = [(d.root, batch.proof(d.root)) for d in sealed]

    def run_bundles(bundles: list[object]) -> int:
        for bundle in bundles:
            assert verify_offline(bundle).valid  # type: ignore[arg-type]
        return len(bundles)

    def run_roots() -> int:
        for root, proof in proofs:
            assert verify_batch_proof(batch.root, root, proof)
        return len(proofs)

    return {
        "complete bundle (27 fields re-hashed, batch proof)": median_rate(
            lambda: run_bundles(complete),
            repeats,  # type: ignore[arg-type]
        ),
        "one-field disclosure (field proof, batch proof)": median_rate(
            lambda: run_bundles(disclosed),
            repeats,  # type: ignore[arg-type]
        ),
        "document root against its batch proof": median_rate(run_roots, repeats),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer documents")
    args = parser.parse_args()
    documents = 1024 if args.quick else 8192
    fields = seal_document(parse_record(samples.invoice())).field_count

    lines = [
        "## Registry core",
        "",
        f"`python scripts/bench_core.py` — {machine()}. Median of {args.repeats} runs; "
        f"one invoice has {fields} fields; one core.",
        "",
        "### Sealing and batching (target: at least 15,000 documents/s)",
        "",
        "Canonicalise, salt every field, hash the field tree and the batch tree, from "
        "records already validated.",
        "",
        "| batch size | documents/s |",
        "|---:|---:|",
    ]
    for size in BATCH_SIZES:
        rate = throughput(size, args.repeats, documents)
        lines.append(f"| {size} | {rate:,.0f} |")
        print(lines[-1], flush=True)

    validated = validation_rate(args.repeats, documents)
    lines += [
        "",
        f"Validating raw JSON records (the step before sealing): {validated:,.0f} "
        "records/s.",
    ]
    print(lines[-1], flush=True)

    batched, single = gas_per_document(ChainClient.in_process())
    lines += [
        "",
        "### Anchoring gas (target: at most 70 gas per document at batch 1024)",
        "",
        f"One transaction per document costs {single:,} gas per document "
        "(median of 16).",
        "",
        "| batch size | gas per transaction | gas per document |",
        "|---:|---:|---:|",
    ]
    for size, gas in batched:
        lines.append(f"| {size} | {gas:,} | {gas / size:,.1f} |")
        print(lines[-1], flush=True)

    lines += [
        "",
        "### Offline verification (target: at least 20,000 verifications/s)",
        "",
        "| what is checked | verifications/s |",
        "|---|---:|",
    ]
    for what, rate in verifications(args.repeats).items():
        lines.append(f"| {what} | {rate:,.0f} |")
        print(lines[-1], flush=True)

    record_section("core", "\n".join(lines))
    print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
