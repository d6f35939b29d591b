"""Generate a synthetic economy with planted fraud; write its records and labels.

The records pass through ``registry.records.parse_record`` like real ones (the
facts are checked against their canonical form), then go to ``--out``:
``records.jsonl`` (one raw record a line, in registration order), ``side-facts.json``
(what records do not carry: payments, disputes, party industries and identity
attributes) and, apart, ``labels.json`` (the ground truth: which sellers are
fraudulent and how; never read by the scorer). With ``--service URL`` the records
are also registered through the service's bulk endpoint, each seller onboarded by
the operator token (``--operator-token``) and registering its own records.

Usage: python scripts/generate_economy.py --seed 1 [--as-of 2026-10-15]
       [--sellers 300] [--buyers 120] [--out DIR] [--service URL --operator-token T]
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from collections import defaultdict
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from registry.credit.synthetic import Economy, generate_economy

KIND_ORDER = {"purchase_order": 0, "delivery_note": 1, "invoice": 2, "credit_note": 3}


def write(economy: Economy, out: Path) -> None:
    """Records, side facts and (separately) labels as files under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "records.jsonl").open("w") as handle:
        for record_id, record in economy.records:
            handle.write(json.dumps({"id": record_id, "record": record}) + "\n")
    facts = economy.facts
    side = {
        "as_of": economy.as_of.isoformat(),
        "horizon_end": economy.horizon_end.isoformat(),
        "parties": [asdict(p) for p in facts.parties.values()],
        "payments": [asdict(p) for p in facts.payments],
        "disputes": [asdict(d) for d in facts.disputes],
    }
    (out / "side-facts.json").write_text(json.dumps(side, default=str))
    labels = {seller: asdict(label) for seller, label in economy.labels.items()}
    (out / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True))


def register(economy: Economy, url: str, operator_token: str, chunk: int) -> None:
    """Onboard every seller and register its records through the bulk endpoint."""
    by_seller: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, record in economy.records:
        by_seller[record["seller"]["tax_id"]].append(record)
    operator = {"Authorization": f"Bearer {operator_token}"}
    with httpx.Client(base_url=url, timeout=120) as client:
        for seller, records in sorted(by_seller.items()):
            body = {
                "role": "seller",
                "name": f"Seller {seller}",
                "tax_id": seller,
                "eth_address": "0x" + secrets.token_hex(20),
            }
            created = client.post("/v1/parties", json=body, headers=operator)
            created.raise_for_status()
            token = created.json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            records.sort(key=lambda r: (KIND_ORDER[r["type"]], r["issued_on"]))
            for start in range(0, len(records), chunk):
                batch = {"documents": records[start : start + chunk]}
                answer = client.post("/v1/documents/bulk", json=batch, headers=headers)
                answer.raise_for_status()
        print(f"registered {len(economy.records)} records of {len(by_seller)} sellers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 10, 15))
    parser.add_argument("--sellers", type=int, default=300)
    parser.add_argument("--buyers", type=int, default=120)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("economy"))
    parser.add_argument("--service", help="base URL of a running service")
    parser.add_argument("--operator-token", help="the service's operator token")
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()

    started = time.perf_counter()
    economy = generate_economy(
        args.seed,
        args.as_of,
        sellers=args.sellers,
        buyers=args.buyers,
        months=args.months,
        validate=True,
    )
    frauds = sum(1 for label in economy.labels.values() if label.fraud)
    print(
        f"seed {args.seed}: {len(economy.labels)} sellers ({frauds} fraudulent), "
        f"{len(economy.records)} records validated in "
        f"{time.perf_counter() - started:.1f} s"
    )
    write(economy, args.out)
    print(f"wrote {args.out}/records.jsonl, side-facts.json and labels.json")
    if args.service:
        if not args.operator_token:
            parser.error("--service needs --operator-token")
        register(economy, args.service, args.operator_token, args.chunk)


if __name__ == "__main__":
    main()
