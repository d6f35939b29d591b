"""The ``receivables`` command: the registry core's subcommands plus ``serve``.

The core's command line (:mod:`registry.cli`) knows nothing of the service; this
module adds the service's subcommands to it and is the console script's entry point.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from registry import cli as core_cli
from registry.devchain import free_port


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.claims.indexer import IndexerThread
    from api.claims.runtime import connect_claims
    from api.db import Database, create_db_engine, upgrade_database
    from api.runtime import anchoring_worker, connect_chain, demo_credentials
    from api.settings import Settings, read_or_create_secret

    overrides: dict[str, Any] = {}
    for option, setting in (
        ("data_dir", "data_dir"),
        ("db", "database_url"),
        ("rpc", "rpc_url"),
        ("contract", "registry_address"),
        ("key", "signer_key"),
    ):
        value = getattr(args, option)
        if value is not None:
            overrides[setting] = Path(value) if option == "data_dir" else value
    settings = Settings(**overrides)
    database = Database(create_db_engine(settings))
    upgrade_database(database.engine)
    chain = connect_chain(settings, database)
    worker = anchoring_worker(settings, database, chain) if not args.no_worker else None
    indexer = None
    try:
        chain.claims = connect_claims(
            settings,
            database,
            chain.client,
            chain.contract,
            embedded=chain.embedded,
            confirmations=chain.confirmations,
        )
        app = create_app(settings, chain, database)
        if app.state.claims_context is not None:
            indexer = IndexerThread(app.state.claims_context.indexer)
            indexer.start()
        credentials = demo_credentials(database, settings.data_dir)
        if worker is not None:
            worker.start()
        port = args.port or free_port()
        operator = (
            settings.operator_token.get_secret_value()
            if settings.operator_token
            else read_or_create_secret(settings.data_dir / "operator.token")
        )
        kind = (
            f"embedded anvil at {chain.node.rpc_url}"
            if chain.node is not None
            else "JSON-RPC endpoint"
        )
        print(f"receivables service on http://{args.host}:{port}  (API docs: /docs)")
        print(f"  data:     {settings.data_dir}")
        print(
            f"  chain:    {kind}, chain id {chain.chain_id}, registry {chain.contract}"
        )
        print(f"  worker:   {'anchoring every' if worker else 'not running'}", end="")
        print(
            f" {settings.batch_max_age_seconds:g} s or {settings.batch_size} documents"
            if worker
            else ""
        )
        if chain.claims is not None:
            print(
                f"  claims:   ClaimToken {chain.claims.claims.claim_token}, "
                f"currency {chain.claims.claims.currency}"
            )
        print(f"  operator: Bearer {operator}")
        for role, token in credentials.items():
            print(f"  {role + ':':9} Bearer {token}")
        sys.stdout.flush()
        uvicorn.run(app, host=args.host, port=port, log_level="warning")
    finally:
        if indexer is not None:
            indexer.stop()
        if worker is not None:
            worker.stop()
        chain.close()
        database.dispose()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from api.claims_demo import run_claims_demo
    from api.demo import run_service_demo
    from registry.credit.demo import story as credit_story
    from registry.demo import run_demo

    core = run_demo(Path(args.out), rpc=args.rpc, key=args.key)
    if args.core_only:
        return core
    service = run_service_demo()
    claims = run_claims_demo(Path(args.out) / "claims", rpc=args.rpc)
    print("\nData credit on a generated economy (seasonal sellers, planted fraud)")
    for line in credit_story():
        print(line)
    return core or service or claims


def _add_service_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    demo = sub.choices["demo"]
    demo.add_argument(
        "--core-only", action="store_true", help="skip the story through the service"
    )
    demo.set_defaults(run=_cmd_demo)

    serve = sub.add_parser("serve", help="run the HTTP service (embedded defaults)")
    serve.add_argument(
        "--data-dir",
        help="database, keys and chain state (default: ~/.local/share/receivables)",
    )
    serve.add_argument(
        "--db", help="SQLAlchemy database URL (default: SQLite in the data dir)"
    )
    serve.add_argument(
        "--rpc", help="EVM JSON-RPC URL (default: an embedded anvil node)"
    )
    serve.add_argument("--contract", help="registry address on that chain")
    serve.add_argument("--key", help="anchorer's hex private key")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument(
        "--no-worker", action="store_true", help="do not anchor in this process"
    )
    serve.set_defaults(run=_cmd_serve)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``receivables`` console script."""
    return core_cli.main(argv, extend=_add_service_commands)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
