"""Start and stop a local anvil node from the npm package, on a free loopback port.

Invariants:
    * The anvil executable comes from ``node_modules`` (npm ``@foundry-rs/anvil``, whose
      platform package ships the binary); nothing is downloaded. ``RECEIVABLES_ANVIL``
      overrides the path.
    * The binary itself is started (never through ``npx``), so the process held is the
      server and stopping it stops the node.
    * The node listens on 127.0.0.1 only, on a port the OS picked as free.
"""

from __future__ import annotations

import ctypes
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import requests

from registry.compiler import NODE_MODULES
from registry.errors import ChainUnavailableError, ConfigurationError

# anvil's default mnemonic ("test test ... junk") gives these funded keys; they are
# public knowledge and only ever valid on a local development chain.
ANVIL_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
)


def find_anvil() -> Path:
    """The anvil executable shipped by the npm package for this platform.

    Raises:
        ConfigurationError: not installed (run ``npm ci``), or no build for this OS.
    """
    explicit = os.environ.get("RECEIVABLES_ANVIL")
    if explicit:
        return Path(explicit)
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), platform.machine()
    )
    system = platform.system().lower()
    candidate = (
        NODE_MODULES / "@foundry-rs" / f"anvil-{system}-{machine}" / "bin" / "anvil"
    )
    if candidate.is_file():
        return candidate
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise ConfigurationError(
        f"anvil not found at {candidate.relative_to(NODE_MODULES.parent)}; run `npm ci`"
    )


def _stop_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when the parent process dies.

    A service killed without warning would otherwise leave its node running and still
    writing the state file that the next start loads. SIGTERM lets anvil write its
    state one last time and exit.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AnvilNode:
    """A running anvil process; use as a context manager or call :meth:`stop`."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the node (gracefully, so a state file is written) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_anvil(
    *,
    chain_id: int = 31337,
    state_path: Path | None = None,
    block_time: float | None = None,
    state_interval: int | None = None,
    startup_timeout: float = 15.0,
) -> AnvilNode:
    """Start anvil on a free loopback port and wait until it answers JSON-RPC.

    Args:
        chain_id: the chain id the node reports.
        state_path: a file to load state from at start and dump it to at stop, so the
            chain survives restarts beside a database; None for a throwaway chain.
        block_time: seconds between blocks; None mines one block per transaction.
        state_interval: with ``state_path``, also write the state every this many
            seconds, so a node killed without warning loses at most that much.
        startup_timeout: how long to wait for the node to answer.

    Raises:
        ConfigurationError: anvil is not installed.
        ChainUnavailableError: the node did not answer in time.
    """
    port = free_port()
    args = [str(find_anvil()), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--chain-id", str(chain_id), "--silent"]
    if state_path is not None:
        args += ["--state", str(state_path)]
        if state_interval is not None:
            args += ["--state-interval", str(state_interval)]
    if block_time is not None:
        args += ["--block-time", str(block_time)]
    process = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_stop_with_parent if sys.platform == "linux" else None,
    )
    node = AnvilNode(process, port)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = (
                process.stderr.read().decode(errors="replace") if process.stderr else ""
            )
            raise ChainUnavailableError(f"anvil exited at start: {err.strip()[:500]}")
        try:
            requests.post(
                node.rpc_url,
                json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                timeout=1,
            ).raise_for_status()
            return node
        except requests.RequestException:
            time.sleep(0.05)
    node.stop()
    raise ChainUnavailableError(f"anvil did not answer within {startup_timeout} s")
