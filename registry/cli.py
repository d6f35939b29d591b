"""The ``receivables`` command line: demo, anchor, verify, deploy, node.

Exit codes: 0 success (for ``verify``: the bundle is valid), 1 the bundle is not valid,
2 a usage or input error (a bad file, a missing option), 3 the chain could not be
reached or refused a transaction.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from registry.anchoring import Anchorer, AnchorFacts
from registry.bundle import (
    BundleAnchor,
    EvidenceBundle,
    dump_bundle,
    load_bundle,
    make_bundle,
)
from registry.chain import ChainClient
from registry.document import SaltedDocument, seal_document
from registry.errors import ChainError, ConfigurationError, RecordError, RegistryError
from registry.merkle import build_batch
from registry.records import load_record_json
from registry.verify import Verdict, verify_bundle

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_CHAIN = 3


def bundle_anchor(facts: AnchorFacts) -> BundleAnchor:
    """The anchor part of a bundle from the facts of a mined anchoring transaction."""
    return BundleAnchor(
        chain_id=facts.chain_id,
        contract=facts.contract,
        transaction_hash=facts.transaction_hash,
        block_number=facts.block_number,
        block_hash=facts.block_hash,
        batch_id=facts.batch_id,
    )


def anchor_documents(
    anchorer: Anchorer, documents: Sequence[SaltedDocument], *, confirmations: int = 1
) -> tuple[list[EvidenceBundle], AnchorFacts]:
    """Batch sealed documents under one root, anchor it, and bundle each document."""
    batch = build_batch([document.root for document in documents])
    facts = anchorer.anchor([batch], confirmations=confirmations)[0]
    anchor = bundle_anchor(facts)
    return [make_bundle(document, batch, anchor) for document in documents], facts


def bundle_file_name(document: SaltedDocument) -> str:
    """A readable, file-system-safe name for a document's bundle."""
    kind = str(document.record.get("type", "document"))
    number = str(document.record.get("number", document.root.hex()[:12]))
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in number)
    return f"{kind.replace('_', '-')}-{safe}.json"


def print_verdict(verdict: Verdict, *, verbose: bool = True) -> None:
    """Print each check with a mark, then the verdict."""
    if verbose:
        for check in verdict.checks:
            mark = "ok  " if check.ok else "FAIL"
            print(f"  [{mark}] {check.name}: {check.detail}")
    state = "VALID" if verdict.valid else "INVALID"
    print(f"  {state} ({verdict.scope}): {verdict.reason}")


# -- subcommands ----------------------------------------------------------------------


def _client(args: argparse.Namespace, *, signing: bool) -> ChainClient:
    rpc = args.rpc or os.environ.get("RECEIVABLES_RPC_URL")
    if not rpc:
        raise _UsageError("give --rpc URL or set RECEIVABLES_RPC_URL")
    key = getattr(args, "key", None) or os.environ.get("RECEIVABLES_PRIVATE_KEY")
    if signing and not key:
        raise _UsageError(
            "give --key or set RECEIVABLES_PRIVATE_KEY (the anchorer's key)"
        )
    return ChainClient.connect(rpc, key if signing else None)


def _cmd_anchor(args: argparse.Namespace) -> int:
    documents = []
    for path in args.files:
        try:
            record = load_record_json(Path(path).read_bytes())
        except RecordError as err:
            raise _UsageError(f"{path}: {err}") from err
        except OSError as err:
            raise _UsageError(f"{path}: {err.strerror}") from err
        documents.append(seal_document(record))
    contract = args.contract or os.environ.get("RECEIVABLES_CONTRACT")
    if not contract:
        raise _UsageError("give --contract ADDRESS or set RECEIVABLES_CONTRACT")
    anchorer = Anchorer(_client(args, signing=True), contract)
    bundles, facts = anchor_documents(
        anchorer, documents, confirmations=args.confirmations
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for document, bundle in zip(documents, bundles, strict=True):
        target = out / bundle_file_name(document)
        target.write_text(dump_bundle(bundle))
        print(f"{target}  root=0x{document.root.hex()}")
    print(
        f"anchored {len(documents)} documents as batch {facts.batch_id} in block "
        f"{facts.block_number} (tx 0x{facts.transaction_hash.hex()}, "
        f"gas {facts.gas_used})"
    )
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    try:
        bundle = load_bundle(Path(args.bundle).read_bytes())
    except OSError as err:
        raise _UsageError(f"{args.bundle}: {err.strerror}") from err
    except RegistryError as err:
        print(f"INVALID: {err}")
        return EXIT_INVALID
    document = None
    if args.document:
        document = load_record_json(Path(args.document).read_bytes())
    if args.field:
        narrowed = _only_field(bundle, args.field)
        if narrowed is None:
            print(f"INVALID: the bundle discloses no field at {args.field!r}")
            return EXIT_INVALID
        bundle = narrowed
    lookup = None if args.offline else _client(args, signing=False)
    verdict = verify_bundle(
        bundle, lookup, min_confirmations=args.confirmations, document=document
    )
    if args.field and verdict.valid:
        value = next(f.value for f in bundle.document.fields if f.path == args.field)
        print(f"  {args.field} = {json.dumps(value, ensure_ascii=False)}")
    print_verdict(verdict, verbose=not args.quiet)
    if args.offline and verdict.valid:
        print("  NOTE: --offline: the chain was not consulted; the anchor is unproven.")
    return 0 if verdict.valid else EXIT_INVALID


def _only_field(bundle: EvidenceBundle, path: str) -> EvidenceBundle | None:
    """A bundle narrowed to one field (with its proof, unless the bundle is whole)."""
    fields = [f for f in bundle.document.fields if f.path == path]
    if not fields:
        return None
    if bundle.document.complete:
        return bundle  # a complete bundle proves every field by recomputing the root
    document = replace(bundle.document, fields=tuple(fields))
    return replace(bundle, document=document)


def _cmd_deploy(args: argparse.Namespace) -> int:
    anchorer = Anchorer.deploy(_client(args, signing=True))
    print(anchorer.registry_address)
    return 0


def _cmd_node(args: argparse.Namespace) -> int:
    from registry.devchain import ANVIL_KEYS, start_anvil

    state = Path(args.state) if args.state else None
    node = start_anvil(chain_id=args.chain_id, state_path=state)
    try:
        client = ChainClient.connect(node.rpc_url, ANVIL_KEYS[0])
        address = Anchorer.deploy(client).registry_address
        print(f"RECEIVABLES_RPC_URL={node.rpc_url}")
        print(f"RECEIVABLES_CONTRACT={address}")
        print(f"RECEIVABLES_PRIVATE_KEY={ANVIL_KEYS[0]}  # anvil's public dev key")
        print("anvil is running; press Ctrl-C to stop", flush=True)
        while node.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from registry.demo import run_demo

    return run_demo(Path(args.out), rpc=args.rpc, key=args.key)


# -- wiring ---------------------------------------------------------------------------


class _UsageError(Exception):
    """A usage or input error: printed, exit code 2."""


def _chain_options(parser: argparse.ArgumentParser, *, key: bool) -> None:
    parser.add_argument("--rpc", help="JSON-RPC URL (default: $RECEIVABLES_RPC_URL)")
    if key:
        parser.add_argument(
            "--key", help="hex private key (default: $RECEIVABLES_PRIVATE_KEY)"
        )


SubcommandAdder = Callable[
    ["argparse._SubParsersAction[argparse.ArgumentParser]"], None
]


def build_parser(extend: SubcommandAdder | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``receivables`` command.

    Args:
        extend: adds more subcommands (the service adds ``serve``), so this package
            never imports the service.
    """
    parser = argparse.ArgumentParser(
        prog="receivables",
        description="Provable trade records anchored on an EVM chain.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log chain calls")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the whole story on an in-process chain")
    demo.add_argument("--out", default="demo-output", help="folder for the bundles")
    _chain_options(demo, key=True)
    demo.set_defaults(run=_cmd_demo)

    anchor = sub.add_parser(
        "anchor", help="seal JSON records, anchor them, write bundles"
    )
    anchor.add_argument(
        "files", nargs="+", help="JSON records (order, delivery, invoice)"
    )
    anchor.add_argument("--out", default="bundles", help="folder for the bundles")
    anchor.add_argument(
        "--contract", help="registry address (default: $RECEIVABLES_CONTRACT)"
    )
    anchor.add_argument("--confirmations", type=int, default=1)
    _chain_options(anchor, key=True)
    anchor.set_defaults(run=_cmd_anchor)

    verify = sub.add_parser("verify", help="check an evidence bundle against the chain")
    verify.add_argument("bundle", help="the bundle's JSON file")
    verify.add_argument("--field", help="check only this field (a JSON Pointer)")
    verify.add_argument("--document", help="the record the bundle should be about")
    verify.add_argument("--confirmations", type=int, default=1)
    verify.add_argument(
        "--offline", action="store_true", help="check hashes and proofs only"
    )
    verify.add_argument(
        "-q", "--quiet", action="store_true", help="print the verdict only"
    )
    _chain_options(verify, key=False)
    verify.set_defaults(run=_cmd_verify)

    deploy = sub.add_parser(
        "deploy", help="deploy a registry contract; prints its address"
    )
    _chain_options(deploy, key=True)
    deploy.set_defaults(run=_cmd_deploy)

    node = sub.add_parser(
        "node", help="run a local anvil node with a registry deployed"
    )
    node.add_argument(
        "--state", help="file to keep the chain's state in across restarts"
    )
    node.add_argument("--chain-id", type=int, default=31337)
    node.set_defaults(run=_cmd_node)
    if extend is not None:
        extend(sub)
    return parser


def main(
    argv: Sequence[str] | None = None, *, extend: SubcommandAdder | None = None
) -> int:
    """Entry point of the ``receivables`` command (see :func:`build_parser`)."""
    args = build_parser(extend).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s %(message)s",
    )
    try:
        code: int = args.run(args)
    except _UsageError as err:
        print(f"receivables: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (RecordError, ConfigurationError) as err:
        print(f"receivables: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ChainError as err:
        print(f"receivables: chain error: {err}", file=sys.stderr)
        return EXIT_CHAIN
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
