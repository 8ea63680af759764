"""``openbuilder models list`` and ``openbuilder models test ID``."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("models", help="list chat models and providers, or test one")
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND", required=True)
    lst = msub.add_parser("list", help="providers, models, capabilities, prices, whether the key is set")
    lst.add_argument("--json", action="store_true", help="print the table as JSON")
    lst.set_defaults(func=cmd_list)
    test = msub.add_parser("test", help="a round trip and a tool call: latency and tokens per second")
    test.add_argument("model", help="model id, e.g. local:qwen2.5-coder-0.5b or deepseek:deepseek-chat")
    test.add_argument("--base-url", help="server URL for OpenAI-compatible providers")
    test.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="a model setting (repeatable), e.g. --set n_ctx=2048")
    test.add_argument("--json", action="store_true", help="print the result as JSON")
    test.set_defaults(func=cmd_test)


def _key_state(pre: Any) -> str:
    if not pre.key_env:
        return "not needed"
    if os.environ.get(pre.key_env):
        return f"{pre.key_env} set"
    return f"{pre.key_env} optional" if pre.key_optional else f"{pre.key_env} NOT SET"


def list_rows() -> list[dict[str, Any]]:
    from framework.providers.presets import model_profile, presets

    rows = []
    for name, pre in presets().items():
        for model in pre.models or {"*": {}}:
            local = True if pre.kind in ("local", "fake") else None
            profile = model_profile(name, "" if model == "*" else model, local=local)
            if pre.kind in ("local", "fake"):
                tools = {"local": "prompted+grammar", "fake": "scripted"}[pre.kind]
            elif model == "*":
                tools = "by family"
            else:
                tools = "native" if profile.native_tool_calling else "prompted"
            rows.append({
                "provider": name, "model": "(any name)" if model == "*" else model,
                "family": profile.family, "tools": tools,
                "json_schema": profile.json_schema_output or pre.kind == "local",
                "context": profile.context_window, "local": profile.local,
                "price_in": profile.price_input, "price_out": profile.price_output,
                "currency": pre.currency, "prices_as_of": pre.prices_as_of, "key": _key_state(pre),
                "endpoint": pre.base_url or "(base_url required)",
            })
    return rows


def _price(row: dict[str, Any]) -> str:
    if row["price_in"] is None:
        return "-"
    return f"{row['price_in']:g}/{row['price_out']:g} {row['currency']}"


def cmd_list(args: argparse.Namespace) -> int:
    rows = list_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = f"{'ID':<38} {'FAMILY':<9} {'TOOLS':<16} {'JSON':<5} {'CONTEXT':>8}  {'PRICE/1M in/out':<18} KEY"
    print(header)
    for r in rows:
        model_id = f"{r['provider']}:{r['model']}"
        print(f"{model_id:<38} {r['family']:<9} {r['tools']:<16} {'yes' if r['json_schema'] else 'no':<5} "
              f"{r['context']:>8}  {_price(r):<18} {r['key']}")
    print("\nPrices are list prices per million tokens as of each preset's date; 'local' providers "
          "never leave this machine.")
    return 0


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    from framework.errors import InputError

    out: dict[str, Any] = {}
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InputError(f"--set {item!r} must look like KEY=VALUE, e.g. --set n_ctx=2048")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    if args.base_url:
        out["base_url"] = args.base_url
    return out


def cmd_test(args: argparse.Namespace) -> int:
    from framework.providers.roundtrip import connection_test

    result = connection_test(args.model, _settings(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"model        {result['model']}")
        print(f"round trip   {result['latency_s']} s (first token {result['ttft_s']} s), "
              f"{result['output_tokens']} tokens, {result['tokens_per_s']} tokens/s: "
              f"{result['reply']!r}")
        status = "ok" if result["tool_call_ok"] else "WRONG"
        print(f"tool call    {status} in {result['tool_latency_s']} s: {result['tool_call']}")
    return 0 if result["tool_call_ok"] else 1
