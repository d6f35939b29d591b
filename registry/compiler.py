"""Compile the project's Solidity contracts with py-solc-x, offline, once.

Invariants:
    * The compiler is solc 0.8.30 with the optimizer on (200 runs) and ``evmVersion``
      pinned to ``cancun`` (the in-process py-evm knows up to Prague; solc 0.8.30
      defaults to a newer fork). ``hardhat.config.js`` pins the same settings, so both
      toolchains compile the same code.
    * A native ``solc`` of that version is used when one is found (``RECEIVABLES_SOLC``
      or ``PATH``); otherwise ``scripts/solc``, a stand-in over the pinned npm ``solc``
      package. Nothing is ever downloaded.
    * Artifacts are cached in ``cache/solc/`` under a SHA-256 of every source's name
      and contents, the settings and the compiler version: editing any contract or an
      OpenZeppelin import recompiles, nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from registry.errors import ConfigurationError

SOLC_VERSION = "0.8.30"
EVM_VERSION = "cancun"
OPTIMIZER_RUNS = 200

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = REPO_ROOT / "contracts"
NODE_MODULES = REPO_ROOT / "node_modules"
CACHE_DIR = REPO_ROOT / "cache" / "solc"
STANDIN = REPO_ROOT / "scripts" / "solc"

_IMPORT = re.compile(r"""^\s*import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["']""", re.M)


@dataclass(frozen=True, slots=True)
class Artifact:
    """A compiled contract: its ABI, creation bytecode and runtime bytecode (hex)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


def find_solc() -> Path:
    """Pick the compiler executable: native solc 0.8.30 if present, else the stand-in.

    Returns:
        The path of an executable that answers like native solc.

    Raises:
        ConfigurationError: neither a native solc nor Node with the npm package exists.
    """
    explicit = os.environ.get("RECEIVABLES_SOLC")
    if explicit:
        return Path(explicit)
    native = shutil.which("solc")
    if native and _version_of(Path(native)).startswith(SOLC_VERSION + "+"):
        return Path(native)
    if shutil.which("node") is None:
        raise ConfigurationError("no solc found: install Node 20+ and run `npm ci`")
    if not (NODE_MODULES / "solc").is_dir():
        raise ConfigurationError(
            f"no solc found: the npm package solc@{SOLC_VERSION} is missing; "
            "run `npm ci` in the repository"
        )
    return STANDIN


def _version_of(binary: Path) -> str:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    match = re.search(r"Version: (\S+)", out)
    return match.group(1) if match else ""


def _resolve(unit: str, importer: str | None) -> str:
    if importer is not None and unit.startswith("."):
        return os.path.normpath(os.path.join(os.path.dirname(importer), unit)).replace(
            os.sep, "/"
        )
    return unit


def _read_unit(unit: str) -> str:
    for root in (REPO_ROOT, NODE_MODULES):
        candidate = root / unit
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise ConfigurationError(f"Solidity import not found: {unit} (did `npm ci` run?)")


def collect_sources(entry_points: list[str]) -> dict[str, str]:
    """Read the given source units and everything they import, transitively.

    Source unit names are relative to the repository (``contracts/X.sol``) or to
    ``node_modules`` (``@openzeppelin/contracts/...``), as Hardhat names them.
    """
    sources: dict[str, str] = {}
    pending: list[tuple[str, str | None]] = [(unit, None) for unit in entry_points]
    while pending:
        raw, importer = pending.pop()
        unit = _resolve(raw, importer)
        if unit in sources:
            continue
        text = _read_unit(unit)
        sources[unit] = text
        pending.extend((found, unit) for found in _IMPORT.findall(text))
    return sources


def _standard_input(sources: dict[str, str]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sorted(sources.items())},
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "outputSelection": {
                "*": {
                    "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]
                }
            },
        },
    }


def _contract_units() -> list[str]:
    return sorted(
        path.relative_to(REPO_ROOT).as_posix() for path in CONTRACTS_DIR.rglob("*.sol")
    )


@cache
def compile_contracts() -> dict[str, Artifact]:
    """Compile every contract under ``contracts/`` (cached on disk and per process).

    Returns:
        Artifacts by contract name (``ReceivableRegistry``, ...).

    Raises:
        ConfigurationError: no compiler, a missing import, or a compile error.
    """
    sources = collect_sources(_contract_units())
    standard_input = _standard_input(sources)
    key = hashlib.sha256(
        json.dumps([SOLC_VERSION, standard_input], sort_keys=True).encode()
    ).hexdigest()
    cached = CACHE_DIR / f"{key}.json"
    if cached.is_file():
        output = json.loads(cached.read_text())
    else:
        output = _run_compiler(standard_input)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text(json.dumps(output))
        tmp.replace(cached)
    return _artifacts(output)


def _run_compiler(standard_input: dict[str, Any]) -> dict[str, Any]:
    import solcx
    from solcx.exceptions import SolcError

    binary = find_solc()
    try:
        output: dict[str, Any] = solcx.compile_standard(
            standard_input, solc_binary=binary, allow_paths=[str(REPO_ROOT)]
        )
    except SolcError as err:
        raise ConfigurationError(f"Solidity compilation failed: {err}") from err
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        details = "\n".join(e.get("formattedMessage", e["message"]) for e in errors)
        raise ConfigurationError(f"Solidity compilation failed:\n{details}")
    return output


def _artifacts(output: dict[str, Any]) -> dict[str, Artifact]:
    artifacts: dict[str, Artifact] = {}
    for unit, contracts in output.get("contracts", {}).items():
        if not unit.startswith("contracts/"):
            continue
        for name, data in contracts.items():
            artifacts[name] = Artifact(
                name=name,
                abi=data["abi"],
                bytecode="0x" + data["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + data["evm"]["deployedBytecode"]["object"],
            )
    return artifacts


def artifact(name: str) -> Artifact:
    """The compiled artifact of one contract by name.

    Raises:
        ConfigurationError: no contract of that name under ``contracts/``.
    """
    artifacts = compile_contracts()
    if name not in artifacts:
        raise ConfigurationError(f"no contract named {name} under contracts/")
    return artifacts[name]
