"""HTTP through the local API Gateway against strata's own Invoke, in the same ``strata serve`` and the same run.

A stack with one tiny function (``AutoPublishAlias: live``, returns ``{"statusCode": 200, "body": "ok"}``) and an
HTTP API route ``GET /hello`` on the alias is deployed into a temporary home; one ``strata serve --invoke-threads 1``
serves both doors through ONE warm worker:
- Invoke: ``POST /2015-03-31/functions/<name>:live/invocations`` (SigV4-signed, 100-byte event), Lambda's API;
- gateway: ``GET /hello`` on the HTTP API's own port (payload 2.0 event built, the proxy answer turned into HTTP).
Latency: one keep-alive raw-socket client, sequential requests, the two doors taking turns in batches (a shared VM's
speed drifts within seconds): p50 and p99 per round. Throughput: ``wrk -t1 -c8`` on the gateway (Invoke's signed
requests cannot be replayed by wrk: an 8-thread Python client measures it, GIL-bound, so it understates Invoke).
Targets (issue 15): gateway p50 <= 1.3x Invoke's, > 5000 requests/s through the one warm worker.

    python bench/bench_gateway.py            # 5 rounds, 4000 requests, 5 s of load
    python bench/bench_gateway.py --quick    # 1 round, 1000 requests, 2 s
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_server import _loadavg, _read_response, latency, percentile  # noqa: E402

BATCHES = 10
EVENT = json.dumps({"id": 1, "name": "bench", "pad": ""}).encode()
EVENT = json.dumps({"id": 1, "name": "bench", "pad": "x" * (100 - len(EVENT))}).encode()
HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /hello
            Method: get
"""


def deploy(app: Path) -> None:
    (app / "src").mkdir(parents=True)
    (app / "src" / "app.py").write_text(HANDLER)
    (app / "template.yaml").write_text(TEMPLATE)
    subprocess.run([sys.executable, "-m", "strata.cli.main", "deploy", "--no-verify"], cwd=app, check=True,
                   env={**os.environ, "STRATA_HOME": str(app / ".strata")}, stdout=subprocess.DEVNULL)


def start(app: Path) -> tuple[subprocess.Popen, int, int, str]:
    """``strata serve`` of the app's home: (process, Lambda API port, gateway port, alias-qualified name)."""
    from strata.local.gateway.addresses import serving_ports
    from strata.local.gateway.routes import load

    home = app / ".strata"
    proc = subprocess.Popen([sys.executable, "-m", "strata.cli.main", "serve", "--port", "0", "--invoke-threads", "1"],
                            env={**os.environ, "STRATA_HOME": str(home)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            port = json.loads((home / "server.json").read_text())["port"]
            gateway = next(iter(serving_ports(home).values()))
            break
        except (OSError, ValueError, KeyError, StopIteration):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"strata serve did not start: {proc.communicate()}") from None
            time.sleep(0.05)
    api = load(home)[0]
    integration = api.routes[0].integration
    assert integration is not None
    return proc, port, gateway, integration.function_name


def invoke_request(home: Path, port: int, name: str) -> bytes:
    from strata.local.credentials import load
    from strata.local.server.auth import sign

    keys = load(home)
    assert keys is not None
    path = f"/2015-03-31/functions/{name}/invocations"
    headers = sign(keys, "us-east-1", "POST", f"127.0.0.1:{port}", path, "",
                   {"Content-Type": "application/json", "Content-Length": str(len(EVENT))}, EVENT)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + EVENT


def gateway_request(port: int) -> bytes:
    return f"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: bench\r\n\r\n".encode()


def throughput_python(port: int, requests: list[bytes], seconds: float) -> float:
    counts = [0] * len(requests)
    stop = time.monotonic() + seconds

    def run(slot: int) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pending = b""
            while time.monotonic() < stop:
                sock.sendall(requests[slot])
                _, pending = _read_response(sock, pending)
                counts[slot] += 1
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def throughput_wrk(port: int, seconds: float) -> float:
    import re

    out = subprocess.run(["wrk", "-t1", "-c8", f"-d{seconds:g}s", f"http://127.0.0.1:{port}/hello"],
                         capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses:\n{out}")
    found = re.search(r"Requests/sec:\s*([\d.]+)", out)
    assert found is not None, out
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    n = args.requests or (1000 if args.quick else 4000)
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    wrk = shutil.which("wrk")
    load_before = _loadavg()
    results: dict[str, dict[str, list[float]]] = {k: {"p50": [], "p99": [], "rps": []} for k in ("invoke", "gateway")}
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp_name:
        app = Path(tmp_name) / "benchgw"
        deploy(app)
        proc, port, gw_port, name = start(app)
        try:
            home = app / ".strata"
            doors = {"invoke": (port, lambda: invoke_request(home, port, name), b'"ok"}'),
                     "gateway": (gw_port, lambda: gateway_request(gw_port), b"ok")}
            for p, make, expect in doors.values():
                latency(p, 200, warmup=50, request=make(), expect=expect)   # warm up both doors
            for r in range(rounds):
                order = list(doors) if r % 2 == 0 else list(reversed(doors))
                samples: dict[str, list[float]] = {d: [] for d in doors}
                for b in range(BATCHES):
                    for door in (order if b % 2 == 0 else list(reversed(order))):
                        p, make, expect = doors[door]
                        samples[door] += latency(p, n // BATCHES, warmup=50, request=make(), expect=expect)
                for door in doors:
                    results[door]["p50"].append(statistics.median(samples[door]))
                    results[door]["p99"].append(percentile(samples[door], 0.99))
                results["invoke"]["rps"].append(throughput_python(port, [invoke_request(home, port, name)
                                                                         for _ in range(8)], seconds))
                results["gateway"]["rps"].append(
                    throughput_wrk(gw_port, seconds) if wrk else
                    throughput_python(gw_port, [gateway_request(gw_port)] * 8, seconds))
        finally:
            proc.terminate()
            proc.wait(30)
    med = {d: {k: statistics.median(v) for k, v in m.items()} for d, m in results.items()}
    i, g = med["invoke"], med["gateway"]
    load = "wrk -t1 -c8" if wrk else "python, 8 threads"
    print(f"\nHTTP API route -> gateway -> function (one warm worker) vs Invoke in the same strata serve; medians of "
          f"{rounds} round(s), {n} sequential keep-alive requests per door; load average {load_before} before, "
          f"{_loadavg()} after\n")
    print("| metric | Invoke | gateway | ratio | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| p50 latency | {i['p50']:.0f} µs | {g['p50']:.0f} µs | {g['p50'] / i['p50']:.2f}x | <= 1.3x Invoke | "
          f"{'yes' if g['p50'] <= 1.3 * i['p50'] else '**no**'} |")
    print(f"| p99 latency | {i['p99']:.0f} µs | {g['p99']:.0f} µs | {g['p99'] / i['p99']:.2f}x | | |")
    print(f"| requests/s, 8 connections | {i['rps']:.0f} (python client) | {g['rps']:.0f} ({load}) | | > 5000/s | "
          f"{'yes' if g['rps'] > 5000 else '**no**'} |")
    if rounds > 1:
        print("\nper round (p50 µs / p99 µs / req/s):")
        for door in ("invoke", "gateway"):
            m = results[door]
            print(f"  {door:8s}", "  ".join(f"{a:.0f}/{b:.0f}/{c:.0f}" for a, b, c in zip(m["p50"], m["p99"],
                                                                                       m["rps"], strict=False)))


if __name__ == "__main__":
    main()
