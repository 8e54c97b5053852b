"""Invoke through ``strata serve`` against the floor: a minimal asyncio HTTP responder + one warm worker.

Three servers, each its own process, serve ``POST /2015-03-31/functions/bench-fn/invocations`` with a 100-byte JSON
event and a tiny handler (``return event``) through ONE warm worker:
- floor: ``server_floor.py``, a minimal asyncio responder + a minimal worker (what the hardware allows);
- HTTP layer: ``server_http_only.py``, strata's server (``strata.local.server.http`` + ``LambdaApp``, Invoke by its hot
  path) in front of the floor's worker: what the server itself costs;
- strata serve: the real thing with ``--invoke-threads 1`` (so requests queue for the single warm environment instead
  of starting more): control-plane look-up (cached) + ``WorkerPool``'s worker, the response written from the loop's
  reader callback when the reply is there.
Measured in the same run, rounds alternating the order:
- latency: one keep-alive raw-socket client, sequential requests (prebuilt request bytes): p50, p99 per round over
  all its samples. The servers take turns in batches (ten per server and round, each with a short warm-up), so that
  the three share the machine's moods: a shared VM's speed drifts within seconds;
- throughput: ``wrk -t1 -c8`` (8 concurrent keep-alive connections; one wrk thread leaves the other vCPU to the
  servers). Without wrk, a Python 8-connection client stands in (GIL-bound: it understates both servers).
Targets (performance-floors (d), with the issue's 1.5x): p50 <= 1.5x floor, p99 < 1 ms, >= 6.5k invokes/s.
Five rounds by default: on 2 vCPUs the floor alone moves between ~75 and ~120 us from round to round (where the
scheduler puts its worker), so fewer rounds make the ratio a coin toss; the per-round figures and ratios are printed
too.

    python bench/bench_server.py            # 5 rounds, 5000 requests, 5 s wrk
    python bench/bench_server.py --quick    # 1 round, 1000 requests, 2 s wrk
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BATCHES = 10              # latency batches per server and round, the servers taking turns
PATH = "/2015-03-31/functions/bench-fn/invocations"
EVENT = json.dumps({"id": 1, "name": "bench", "pad": ""}).encode()
EVENT = json.dumps({"id": 1, "name": "bench", "pad": "x" * (100 - len(EVENT))}).encode()
assert len(EVENT) == 100
REQUEST = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(EVENT)}\r\n\r\n").encode() + EVENT
HANDLER = "def handler(event, context):\n    return event\n"
SIGNERS: dict[int, Path] = {}   # port -> state home of a ``strata serve``, whose requests must be SigV4-signed


def request_for(port: int) -> bytes:
    """The request to send on one new connection to ``port``: ``REQUEST``, signed afresh for ``strata serve``
    (which takes a signature again only on the connection that first used it)."""
    home = SIGNERS.get(port)
    if home is None:
        return REQUEST
    from strata.local.credentials import load
    from strata.local.server.auth import sign

    keys = load(home)
    assert keys is not None
    headers = sign(keys, "us-east-1", "POST", f"127.0.0.1:{port}", PATH, "",
                   {"Content-Type": "application/json", "Content-Length": str(len(EVENT))}, EVENT)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST {PATH} HTTP/1.1\r\n{head}\r\n".encode() + EVENT


def _wait_port(path: Path, proc: subprocess.Popen, what: str) -> int:
    deadline = time.monotonic() + 60
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start: {proc.communicate()}")
        time.sleep(0.05)
    return int(path.read_text())


def start_strata(home: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "STRATA_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "strata.cli.main", "serve", "--port", "0", "--invoke-threads", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            port = json.loads((home / "server.json").read_text())["port"]
            break
        except (OSError, ValueError, KeyError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"strata serve did not start: {proc.communicate()}") from None
            time.sleep(0.05)
    import boto3

    from strata.local.credentials import load

    keys = load(home)
    assert keys is not None
    SIGNERS[port] = home
    lam = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                       aws_access_key_id=keys.access_key_id, aws_secret_access_key=keys.secret_access_key)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", HANDLER)
    lam.create_function(FunctionName="bench-fn", Runtime="python3.12", Role="arn:aws:iam::123456789012:role/bench",
                        Handler="app.handler", Code={"ZipFile": buffer.getvalue()})
    out = lam.invoke(FunctionName="bench-fn", Payload=EVENT)
    assert out["Payload"].read() == EVENT and "FunctionError" not in out, out
    return proc, port


def start_helper(tmp: Path, script: str) -> tuple[subprocess.Popen, int]:
    """``server_floor.py`` or ``server_http_only.py`` in its own process; it writes its port to a file."""
    port_file = tmp / f"{script}.port"
    proc = subprocess.Popen([sys.executable, str(HERE / script), str(port_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, _wait_port(port_file, proc, script)


def _recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise SystemExit("the server closed the connection")
    return chunk


def _read_response(sock: socket.socket, pending: bytes) -> tuple[bytes, bytes]:
    """One response off a keep-alive connection: (status line + body, leftover bytes)."""
    data = pending
    while b"\r\n\r\n" not in data:
        data += _recv(sock)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(rest) < length:
        rest += _recv(sock)
    return head.split(b"\r\n", 1)[0] + b"\n" + rest[:length], rest[length:]


def latency(port: int, n: int, warmup: int = 300, *, request: bytes | None = None,
            expect: bytes = EVENT) -> list[float]:
    """Sequential keep-alive requests (the Invoke request by default; the gateway benchmark gives its own, and the
    body its first response must end with); microseconds per request."""
    samples: list[float] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        request = request if request is not None else request_for(port)
        for i in range(warmup + n):
            started = time.perf_counter_ns()
            sock.sendall(request)
            response, pending = _read_response(sock, pending)
            elapsed = time.perf_counter_ns() - started
            if i == 0 and not (response.startswith(b"HTTP/1.1 200") and response.endswith(expect)):
                raise SystemExit(f"unexpected response on port {port}: {response[:300]!r}")
            if i >= warmup:
                samples.append(elapsed / 1000)
    return samples


def throughput_wrk(port: int, seconds: float, script: Path) -> float:
    out = subprocess.run(["wrk", "-t1", "-c8", f"-d{seconds:g}s", "-s", str(script),
                          f"http://127.0.0.1:{port}{PATH}"], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses on port {port}:\n{out}")
    return float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))


def throughput_python(port: int, seconds: float) -> float:
    """8 keep-alive connections from 8 threads (GIL-bound stand-in for wrk)."""
    counts = [0] * 8
    stop = time.monotonic() + seconds

    def run(slot: int) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pending = b""
            request = request_for(port)
            while time.monotonic() < stop:
                sock.sendall(request)
                _, pending = _read_response(sock, pending)
                counts[slot] += 1
    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 round, 1000 requests, 2 s of load")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    n = args.requests or (1000 if args.quick else 5000)
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    wrk = shutil.which("wrk")
    load_before = _loadavg()

    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "post.lua"
        script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(EVENT.decode())}\n'
                          f'wrk.headers["Content-Type"] = "application/json"\n')
        servers = {}
        try:
            servers["floor"] = start_helper(tmp, "server_floor.py")
            servers["http"] = start_helper(tmp, "server_http_only.py")
            servers["strata"] = start_strata(tmp / "home")
            results: dict[str, dict[str, list[float]]] = {k: {"p50": [], "p99": [], "rps": []} for k in servers}
            for name in servers:
                latency(servers[name][1], 0)                  # warm every server up before the first round
            for r in range(rounds):
                order = list(servers) if r % 2 == 0 else list(reversed(servers))
                # latency: the servers take turns, BATCHES batches each, so that all three see the same machine (a
                # shared VM's speed drifts within seconds: measured one after the other, the floor and strata could
                # differ by 1.3x one round and 1.6x the next with the same code)
                samples: dict[str, list[float]] = {name: [] for name in servers}
                for b in range(BATCHES):
                    for name in (order if b % 2 == 0 else list(reversed(order))):
                        samples[name] += latency(servers[name][1], n // BATCHES, warmup=50)
                for name in order:
                    results[name]["p50"].append(statistics.median(samples[name]))
                    results[name]["p99"].append(percentile(samples[name], 0.99))
                for name in order:
                    port = servers[name][1]
                    # wrk sends one request on every connection: a signed one would be a replay on all but one
                    rps = throughput_wrk(port, seconds, script) if wrk and port not in SIGNERS else \
                        throughput_python(port, seconds)
                    results[name]["rps"].append(rps)
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(30)

    med = {name: {k: statistics.median(v) for k, v in m.items()} for name, m in results.items()}
    f, h, s = med["floor"], med["http"], med["strata"]
    load = "wrk -t1 -c8" if wrk else "python, 8 threads (no wrk: GIL-bound)"
    print(f"\nInvoke through HTTP, one warm worker, 100-byte event; medians of {rounds} round(s), "
          f"{n} sequential keep-alive requests, {seconds:g} s of {load}; load average {load_before} before, "
          f"{_loadavg()} after\n")
    print("| metric | floor | HTTP layer | ratio | strata serve | ratio | target | met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| p50 latency | {f['p50']:.0f} µs | {h['p50']:.0f} µs | {h['p50'] / f['p50']:.2f}x | {s['p50']:.0f} µs "
          f"| {s['p50'] / f['p50']:.2f}x | <= 1.5x floor | {_met(s['p50'] <= 1.5 * f['p50'])} |")
    print(f"| p99 latency | {f['p99']:.0f} µs | {h['p99']:.0f} µs | {h['p99'] / f['p99']:.2f}x | {s['p99']:.0f} µs "
          f"| {s['p99'] / f['p99']:.2f}x | < 1000 µs | {_met(s['p99'] < 1000)} |")
    print(f"| invokes/s, 8 connections | {f['rps']:.0f} | {h['rps']:.0f} | {h['rps'] / f['rps']:.2f}x | {s['rps']:.0f} "
          f"| {s['rps'] / f['rps']:.2f}x | >= 6500/s | {_met(s['rps'] >= 6500)} |")
    if rounds > 1:
        print("\nper round (p50 µs / p99 µs / req/s):")
        for name, label in (("floor", "floor"), ("http", "HTTP layer"), ("strata", "strata serve")):
            m = results[name]
            print(f"  {label:13s}",
                  "  ".join(f"{a:.0f}/{b:.0f}/{c:.0f}" for a, b, c in zip(m["p50"], m["p99"], m["rps"])))
        print("  p50 ratio to the floor, per round: strata serve",
              "  ".join(f"{a / b:.2f}x" for a, b in zip(results["strata"]["p50"], results["floor"]["p50"])))


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


if __name__ == "__main__":
    main()
