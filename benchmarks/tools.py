"""Tool benchmark: the cost of calling each connector through the agent tool layer against calling
the function or driver underneath directly; code-sandbox start-up; MCP round trips.

    python benchmarks/tools.py [--n 200] [--slow-n 20] [--out benchmarks/results]

"Layer" is what an agent step does: ``run_tool_calls`` (approval review, argument validation,
error capture, the ToolMessage) on the tool as an app wires it (``with_approval``; each call here
is a read, so nothing waits; code and MCP tools, whose every call counts as a side effect, as
under ``approval: never``). "Direct" is the same work without OpenBuilder: the calculator
function, ``sqlite3`` on a read-only connection, ``Path.read_text``, ``urllib`` on a loopback
server, ``python -c`` unsandboxed, and for MCP the connector's own ``tool.invoke``. A connector
that is not installed is skipped with a note. Prints a table and writes ``tools.json``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from framework.agents.approval import with_approval  # noqa: E402
from framework.agents.toolcalls import error_kind, run_tool_calls  # noqa: E402
from framework.tools import get_tool, get_tools  # noqa: E402

MCP_FIXTURE = ROOT / "framework" / "testing" / "mcp_server_fixture.py"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn: Callable[[], Any], n: int, warm: int = 2) -> list[float]:
    for _ in range(warm):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def layer(tool: Any, args: dict[str, Any], approval: str = "required") -> Callable[[], Any]:
    """One agent step calling ``tool`` (wrapped as an app wraps it, unless ``approval`` is
    ``never``); fails loudly on an error."""
    wrapped = with_approval(tool) if approval == "required" else tool
    tools = {wrapped.name: wrapped}
    call = {"name": wrapped.name, "args": args, "id": "bench"}

    def run() -> Any:
        result = run_tool_calls(tools, [call])[0]
        if error_kind(result):
            raise RuntimeError(f"{wrapped.name}: {result.text}")
        return result

    return run


def _connector(registered: str, /, **settings: Any) -> list[Any]:
    """The connector's tools, or ImportError naming why it cannot be used here."""
    try:
        return get_tools(registered, **settings)
    except Exception as exc:  # noqa: BLE001 - not merged / not installed: skip with a note
        raise ImportError(f"{registered} connector unavailable: {' '.join(str(exc).split())[:160]}") \
            from exc


def _named(built: list[Any], name: str) -> Any:
    return next(t for t in built if t.name == name)


# ---- the cases: (direct, layer) callables ---------------------------------------------------

Case = tuple[Callable[[], Any] | None, Callable[[], Any]]


def calculator(_: Path) -> Case:
    from framework.tools.builtins import calculate

    return (lambda: calculate("17 * 23 + sqrt(16)"),
            layer(get_tool("calculator"), {"expression": "17 * 23 + sqrt(16)"}))


def sqlite(tmp: Path) -> Case:
    db = tmp / "bench.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL)")
        conn.executemany("INSERT INTO orders (customer, total) VALUES (?, ?)",
                         [(f"c{i % 50}", i * 1.5) for i in range(2000)])
    query = "SELECT customer, SUM(total) AS spent FROM orders GROUP BY customer ORDER BY spent " \
            "DESC LIMIT 10"
    tool = _named(_connector("sql", url=f"sqlite:///{db}"), "sql")

    def direct() -> Any:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()

    return direct, layer(tool, {"query": query})


def files(tmp: Path) -> Case:
    root = tmp / "files"
    root.mkdir()
    (root / "notes.txt").write_text("line of text\n" * 500)
    tool = _connector("files", root=str(root))[0]
    return (lambda: (root / "notes.txt").read_text(),
            layer(tool, {"operation": "read", "path": "notes.txt"}))


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"hello": "world"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def loopback_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def http(url: str) -> Case:
    tool = _connector("http", allow=[url], private_networks=["127.0.0.1/32"])[0]

    def direct() -> Any:
        with urllib.request.urlopen(url + "hello", timeout=10) as resp:
            return resp.read()

    return direct, layer(tool, {"url": url + "hello"})


def code(_: Path) -> Case:
    tool = _connector("code", timeout=20)[0]
    return (lambda: subprocess.run([sys.executable, "-c", "print(1)"], check=True,
                                   capture_output=True),
            layer(tool, {"code": "print(1)"}, "never"))  # every run is a side effect


def mcp(stack: ExitStack, transport: str) -> Case:
    if not MCP_FIXTURE.exists():
        raise ImportError("MCP test server (framework/testing/mcp_server_fixture.py) not merged")
    if transport == "stdio":
        built = _connector("mcp", name="fx", command=[sys.executable, str(MCP_FIXTURE)])
    else:
        from framework.testing.mcp_server_fixture import serve_http_in_thread

        url = stack.enter_context(serve_http_in_thread())
        built = _connector("mcp", name="fx", url=url)
    from connectors.mcp import close_tools

    stack.callback(close_tools, built)
    tool = _named(built, "fx_echo")
    # every MCP tool counts as having side effects: measured as under `approval: never`
    return (lambda: tool.invoke({"text": "ping"}), layer(tool, {"text": "ping"}, "never"))


# ---- running --------------------------------------------------------------------------------

def interleaved(direct: Callable[[], Any] | None, through: Callable[[], Any], n: int,
                warm: int = 3) -> tuple[list[float], list[float]]:
    """(direct ms, layer ms): calls alternate, so drift in the machine's load hits both alike."""
    for _ in range(warm):  # first calls pay for imports and connections
        through()
        if direct is not None:
            direct()
    base: list[float] = []
    via: list[float] = []
    for _ in range(n):
        if direct is not None:
            base += timed(direct, 1, warm=0)
        via += timed(through, 1, warm=0)
    return base, via


def measure(name: str, make: Callable[[], Case], n: int) -> dict[str, Any]:
    try:
        direct, through = make()
    except ImportError as exc:
        return {"tool": name, "skipped": str(exc)}
    row: dict[str, Any] = {"tool": name, "n": n}
    base, via = interleaved(direct, through, n)
    row.update(layer_p50_ms=pct(via, 0.5), layer_p95_ms=pct(via, 0.95))
    if direct is not None:
        row.update(direct_p50_ms=pct(base, 0.5), direct_p95_ms=pct(base, 0.95))
        row["ratio"] = row["layer_p50_ms"] / max(row["direct_p50_ms"], 1e-6)
        row["overhead_ms"] = row["layer_p50_ms"] - row["direct_p50_ms"]
    return row


def run_all(n: int, slow_n: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        base = Path(tmp)
        url = stack.enter_context(loopback_server())
        rows.append(measure("calculator", lambda: calculator(base), n))
        rows.append(measure("sql (sqlite)", lambda: sqlite(base), n))
        rows.append(measure("files (read)", lambda: files(base), n))
        rows.append(measure("http (loopback GET)", lambda: http(url), n))
        rows.append(measure("code (sandbox start-up)", lambda: code(base), slow_n))
        rows.append(measure("mcp stdio (round trip)", lambda: mcp(stack, "stdio"), n))
        rows.append(measure("mcp http (round trip)", lambda: mcp(stack, "http"), n))
    return rows


def _ms(row: dict[str, Any], key: str) -> str:
    return f"{row[key]:.3f}" if key in row else "-"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'tool':26} {'n':>4} {'direct p50':>11} {'layer p50':>10} {'layer p95':>10} "
             f"{'ratio':>7} {'overhead':>9}  (ms)"]
    for r in rows:
        if "skipped" in r:
            lines.append(f"{r['tool']:26} skipped: {r['skipped']}")
            continue
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else "-"
        lines.append(f"{r['tool']:26} {r['n']:>4} {_ms(r, 'direct_p50_ms'):>11} "
                     f"{_ms(r, 'layer_p50_ms'):>10} {_ms(r, 'layer_p95_ms'):>10} {ratio:>7} "
                     f"{_ms(r, 'overhead_ms'):>9}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="calls per fast tool")
    parser.add_argument("--slow-n", type=int, default=20, help="calls of the code sandbox")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    rows = run_all(args.n, args.slow_n)
    print(table(rows))
    result = {"benchmark": "tools", "n": args.n, "slow_n": args.slow_n, "python": sys.version,
              "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tools.json").write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out / 'tools.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
