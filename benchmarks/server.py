"""Server benchmark on fake:: HTTP overhead against in-process App.invoke, and streaming load.

    python benchmarks/server.py [--requests 300] [--clients 1,16,64] [--out benchmarks/results]

Prints a table and writes JSON. The fake model answers instantly, so what is measured is
OpenBuilder's own cost: the HTTP path (auth, rate limit, JSON, thread hop) and the graph.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import write_fake_app  # noqa: E402
from tests.server.conftest import create_key, start_server, stop  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def in_process(app_yaml: Path, n: int) -> list[float]:
    import framework

    app = framework.load_app(app_yaml)
    app.invoke("warm up")
    out = []
    for i in range(n):
        t = time.perf_counter()
        app.invoke(f"What is FAISS? {i}")
        out.append((time.perf_counter() - t) * 1000)
    app.close()
    return out


def over_http(url: str, key: str, n: int) -> list[float]:
    import httpx

    body = {"model": "bench", "messages": [{"role": "user", "content": "What is FAISS?"}]}
    out = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        client.post("/v1/chat/completions", json=body)
        for i in range(n):
            body["messages"][0]["content"] = f"What is FAISS? {i}"
            t = time.perf_counter()
            resp = client.post("/v1/chat/completions", json=body)
            out.append((time.perf_counter() - t) * 1000)
            resp.raise_for_status()
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def load(url: str, key: str, clients: int, per_client: int, pid: int) -> dict[str, float]:
    import httpx

    ok = failed = 0
    peak = rss_mb(pid)
    body = {"model": "bench", "stream": True,
            "messages": [{"role": "user", "content": "What is LangGraph?"}]}

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal ok, failed
        for _ in range(per_client):
            try:
                async with client.stream("POST", "/v1/chat/completions", json=body) as resp:
                    lines = [ln async for ln in resp.aiter_lines() if ln]
                if resp.status_code == 200 and lines[-1] == "data: [DONE]":
                    ok += 1
                else:
                    failed += 1
            except httpx.HTTPError:
                failed += 1

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, rss_mb(pid))
            await asyncio.sleep(0.05)

    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"},
                                 timeout=120, limits=limits) as client:
        sampler = asyncio.create_task(sample())
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - start
        sampler.cancel()
    return {"clients": clients, "requests": ok + failed, "ok": ok, "dropped": failed,
            "rps": ok / elapsed, "peak_rss_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--per-client", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="ob-bench-"))
    home = base / "home"
    os.environ["OPENBUILDER_HOME"] = str(home)
    app_yaml = write_fake_app(base / "apps" / "bench", name="bench")
    direct = in_process(app_yaml, args.requests)
    key = create_key(home, "bench")
    url, proc = start_server(home, base / "apps", env={"OPENBUILDER_RATE_LIMIT": "0"})
    try:
        http = over_http(url, key, args.requests)
        loads = [asyncio.run(load(url, key, int(c), args.per_client, proc.pid))
                 for c in args.clients.split(",")]
    finally:
        stop(proc)
    result = {
        "model": "fake:echo (hash embeddings)",
        "in_process_ms": {"p50": statistics.median(direct), "p99": pct(direct, 0.99)},
        "http_ms": {"p50": statistics.median(http), "p99": pct(http, 0.99)},
        "load": loads,
    }
    result["added_ms"] = {k: result["http_ms"][k] - result["in_process_ms"][k]
                          for k in ("p50", "p99")}
    print(f"model: {result['model']}; {args.requests} sequential requests each way")
    print(f"{'path':<22}{'p50 ms':>10}{'p99 ms':>10}")
    for name in ("in_process_ms", "http_ms", "added_ms"):
        row = result[name]
        print(f"{name:<22}{row['p50']:>10.2f}{row['p99']:>10.2f}")
    print(f"\n{'clients':>8}{'requests':>10}{'dropped':>9}{'req/s':>9}{'peak RSS MB':>13}")
    for row in loads:
        print(f"{row['clients']:>8}{row['requests']:>10}{row['dropped']:>9}{row['rps']:>9.1f}"
              f"{row['peak_rss_mb']:>13.0f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "server.json").write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out / 'server.json'}")


if __name__ == "__main__":
    main()
