"""Benchmark the HTTP service; prints a table and records it in docs/benchmarks.md.

Starts the service itself (uvicorn, embedded SQLite in a temporary data directory,
loopback only), onboards a seller and its buyer through ``POST /v1/parties``, then
measures, for one server process and for two:
  1. single invoice submissions (``POST /v1/documents``, each with a unique invoice
     number) at 1, 16 and 64 concurrent clients, for a fixed duration each:
     requests/s, p50 and p99 latency, errors (anything but 201, and socket errors);
  2. the bulk endpoint (``POST /v1/documents/bulk``): documents/s with requests of
     ``--bulk-size`` invoices, one client per server process.

Load comes from ``wrk`` when it is on the PATH (a Lua script makes every body unique),
else from a Python asyncio + httpx generator, which costs far more CPU on the same
cores; the output says which one ran. Each configuration runs ``--repeats`` times
against a fresh server; the table shows medians. The server is stopped at the end
(its whole process group).

Usage: python scripts/bench_service.py [--duration S] [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from benchlib import machine, record_section

from registry import samples

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = (1, 16, 64)
PROCESSES = (1, 2)
SELLER_ADDRESS = "0x" + "11" * 20
BUYER_ADDRESS = "0x" + "22" * 20
_WRK_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    """One load run against the single-submission endpoint."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class Service:
    """A running server: its URL and the seller's bearer token."""

    url: str
    seller_token: str


# --- the server ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def uvicorn_command(
    port: int, processes: int, loop: str = "auto", http: str = "auto"
) -> list[str]:
    """The server command line (``--workers`` only for more than one process)."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "api.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        loop,
        "--http",
        http,
    ]
    if processes > 1:
        command += ["--workers", str(processes)]
    return command


@contextlib.contextmanager
def running_service(
    processes: int, operator_token: str, loop: str = "auto", http: str = "auto"
) -> Iterator[Service]:
    """Start the service on a fresh data directory; stop its process group after."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-service-") as data_dir,
        Path(data_dir, "server.log").open("wb") as log,
    ):
        env = {
            **os.environ,
            "RECEIVABLES_DATA_DIR": data_dir,
            "RECEIVABLES_OPERATOR_TOKEN": operator_token,
        }
        # Migrate and create the operator once, so worker processes do not race on it.
        setup = "from api.app import create_app; create_app()"
        subprocess.run([sys.executable, "-c", setup], env=env, cwd=ROOT, check=True)
        port = _free_port()
        server = subprocess.Popen(
            uvicorn_command(port, processes, loop, http),
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, server, Path(data_dir, "server.log"))
            yield Service(url, _onboard(url, operator_token))
        finally:
            _stop(server)


def _wait_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit("server did not come up within 60 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _onboard(url: str, operator_token: str) -> str:
    """Register the sample seller and buyer; return the seller's token."""
    headers = {"Authorization": f"Bearer {operator_token}"}
    tokens = {}
    for role, party, address in (
        ("seller", samples.SELLER, SELLER_ADDRESS),
        ("buyer", samples.BUYER, BUYER_ADDRESS),
    ):
        body = {
            "role": role,
            "name": party["name"],
            "tax_id": party["tax_id"],
            "eth_address": address,
        }
        response = httpx.post(url + "/v1/parties", json=body, headers=headers)
        response.raise_for_status()
        tokens[role] = response.json()["token"]
    return tokens["seller"]


# --- load generators -------------------------------------------------------------


def _invoice_template() -> tuple[str, str]:
    """The JSON body of an invoice, split where its number goes."""
    marker = "NUMBER-MARKER"
    head, tail = json.dumps(samples.invoice(number=marker)).split(marker)
    return head, tail


_LUA = """
local head = [==[{head}]==]
local tail = [==[{tail}]==]
local headers = {{
  ["Authorization"] = "Bearer {token}",
  ["Content-Type"] = "application/json",
}}
local threads = 0
local counter = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local number = "{prefix}-" .. tid .. "-" .. counter
  return wrk.format("POST", "/v1/documents", headers, head .. number .. tail)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\\n",
    summary.requests, summary.duration,
    latency:percentile(50.0), latency:percentile(99.0),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def run_wrk(service: Service, clients: int, seconds: float, prefix: str) -> Run:
    """Closed-loop load from ``wrk`` (one thread): ``clients`` connections."""
    head, tail = _invoice_template()
    token = service.seller_token
    script = _LUA.format(head=head, tail=tail, token=token, prefix=prefix)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            lua.name,
            service.url + "/v1/documents",
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True)
    match = _WRK_LINE.search(output.stdout)
    if match is None:
        raise SystemExit(f"wrk printed no summary:\n{output.stdout}{output.stderr}")
    fields = dict(item.split("=") for item in match.group(1).split())
    return Run(
        requests=int(fields["requests"]),
        seconds=int(fields["duration_us"]) / 1e6,
        p50_ms=int(fields["p50_us"]) / 1000,
        p99_ms=int(fields["p99_us"]) / 1000,
        errors=int(fields["errors"]),
    )


def run_python(service: Service, clients: int, seconds: float, prefix: str) -> Run:
    """Closed-loop load from asyncio + httpx: ``clients`` concurrent loops."""
    return asyncio.run(_python_load(service, clients, seconds, prefix))


async def _python_load(
    service: Service, clients: int, seconds: float, prefix: str
) -> Run:
    head, tail = _invoice_template()
    headers = {
        "Authorization": f"Bearer {service.seller_token}",
        "Content-Type": "application/json",
    }
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=service.url, limits=limits) as client:
        deadline = time.perf_counter() + seconds

        async def loop(worker: int) -> None:
            nonlocal errors
            count = 0
            while time.perf_counter() < deadline:
                count += 1
                body = f"{head}{prefix}-{worker}-{count}{tail}"
                start = time.perf_counter()
                try:
                    response = await client.post(
                        "/v1/documents", content=body, headers=headers, timeout=10
                    )
                    ok = response.status_code == 201
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(loop(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    p50_ms, p99_ms = quantiles[49] * 1000, quantiles[98] * 1000
    return Run(len(latencies), elapsed, p50_ms, p99_ms, errors)


def _warm_up(service: Service, prefix: str) -> None:
    headers = {"Authorization": f"Bearer {service.seller_token}"}
    with httpx.Client(base_url=service.url, headers=headers) as client:
        for i in range(50):
            body = samples.invoice(number=f"{prefix}-warm-{i}")
            client.post("/v1/documents", json=body).raise_for_status()


def run_bulk(
    service: Service, clients: int, size: int, requests: int, prefix: str
) -> tuple[float, float]:
    """Aggregate documents/s and median seconds per request, ``clients`` at once."""
    bodies = [
        json.dumps(
            {
                "documents": [
                    samples.invoice(number=f"{prefix}-B{r}-{i}") for i in range(size)
                ]
            }
        ).encode()
        for r in range(requests * clients)
    ]
    return asyncio.run(_bulk_load(service, clients, bodies, size))


async def _bulk_load(
    service: Service, clients: int, bodies: list[bytes], size: int
) -> tuple[float, float]:
    headers = {
        "Authorization": f"Bearer {service.seller_token}",
        "Content-Type": "application/json",
    }
    durations: list[float] = []
    async with httpx.AsyncClient(base_url=service.url, timeout=300) as client:

        async def loop(mine: list[bytes]) -> None:
            for body in mine:
                start = time.perf_counter()
                response = await client.post(
                    "/v1/documents/bulk", content=body, headers=headers
                )
                response.raise_for_status()
                durations.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(loop(bodies[i::clients]) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return len(bodies) * size / elapsed, statistics.median(durations)


# --- main ------------------------------------------------------------------------


def _server_stack(loop: str, http: str) -> str:
    """What uvicorn runs on: ``auto`` picks uvloop and httptools when installed."""
    if loop == "auto":
        loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    if http == "auto":
        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn with {loop} and {http}"


def _median_run(runs: list[Run]) -> tuple[float, float, float, int]:
    return (
        statistics.median(r.rate for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.errors for r in runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds a run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bulk-size", type=int, default=1000)
    parser.add_argument("--bulk-requests", type=int, default=5, help="per client")
    parser.add_argument(
        "--generator", choices=("auto", "wrk", "python"), default="auto"
    )
    parser.add_argument("--processes", default="1,2", help="server processes to try")
    parser.add_argument("--clients", default="1,16,64", help="client counts to try")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto")
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 repeat")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.repeats, args.bulk_requests = 3.0, 1, 2
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    load = run_wrk if generator == "wrk" else run_python
    processes = [int(p) for p in args.processes.split(",")]
    client_counts = [int(c) for c in args.clients.split(",")]
    operator_token = "rr_bench_" + secrets.token_urlsafe(24)
    stack = _server_stack(args.loop, args.http)
    print(f"load generator: {generator}; server: {stack}", flush=True)

    load_before = os.getloadavg()[0]
    single: dict[tuple[int, int], list[Run]] = {}
    bulk: dict[int, list[tuple[float, float]]] = {}
    for repeat in range(args.repeats):
        for count in processes:
            server = running_service(count, operator_token, args.loop, args.http)
            with server as service:
                prefix = f"R{repeat}P{count}"
                _warm_up(service, prefix)
                for clients in client_counts:
                    run = load(service, clients, args.duration, f"{prefix}C{clients}")
                    single.setdefault((count, clients), []).append(run)
                    print(
                        f"processes={count} clients={clients}: {run.rate:,.0f} req/s "
                        f"p50={run.p50_ms:.1f} ms p99={run.p99_ms:.1f} ms "
                        f"errors={run.errors}",
                        flush=True,
                    )
                result = run_bulk(
                    service, count, args.bulk_size, args.bulk_requests, prefix
                )
                bulk.setdefault(count, []).append(result)
                print(
                    f"processes={count} bulk x{count} clients: {result[0]:,.0f} "
                    f"documents/s ({result[1]:.2f} s a request)",
                    flush=True,
                )

    server_command = ["uvicorn", *uvicorn_command(0, 2, args.loop, args.http)[3:]]
    lines = [
        "## Service",
        "",
        f"`{shlex.join(['python', 'scripts/bench_service.py', *sys.argv[1:]])}` — "
        f"{machine()}.",
        "",
        "Server: "
        f"`{shlex.join(server_command)}` "
        f"(`--workers` only for two processes; port free on 127.0.0.1), "
        f"{stack}, embedded SQLite (WAL, synchronous=NORMAL) in a fresh "
        f"temporary data directory per server start. Load generator: **{generator}** "
        f"(closed loop, one thread, on the same {os.cpu_count()} cores as the server). "
        f"Each figure is the median of {args.repeats} runs of {args.duration:g} s; "
        "errors are summed over the runs. One-minute load average of the machine "
        f"before the runs {load_before:.1f}, after {os.getloadavg()[0]:.1f} (above "
        "about 0.5 other work shared the cores, and the figures are low and noisy).",
        "",
        "### Single invoice submissions (target: at least 500/s with p99 under 50 ms "
        "at 16 clients)",
        "",
        "`POST /v1/documents`, one sample invoice (27 fields, linked by number to an "
        "order and a delivery note) with a unique number each time, no "
        "`Idempotency-Key`.",
        "",
        "| server processes | clients | requests/s | p50 ms | p99 ms | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for (count, clients), runs in sorted(single.items()):
        rate, p50, p99, errors = _median_run(runs)
        lines.append(
            f"| {count} | {clients} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {errors} |"
        )
    lines += [
        "",
        "### Bulk registration (target: at least 5,000 documents/s)",
        "",
        f"`POST /v1/documents/bulk` with {args.bulk_size:,} invoices a request, "
        f"{args.bulk_requests} requests per client, one client per server process.",
        "",
        "| server processes | clients | documents/s | seconds a request |",
        "|---:|---:|---:|---:|",
    ]
    for count, results in sorted(bulk.items()):
        rate = statistics.median(r[0] for r in results)
        seconds = statistics.median(r[1] for r in results)
        lines.append(f"| {count} | {count} | {rate:,.0f} | {seconds:.2f} |")
    print("\n".join(lines))
    if not args.no_record:
        record_section("service", "\n".join(lines))
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
