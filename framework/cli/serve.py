"""``openbuilder serve [APPS_DIR]`` and ``openbuilder keys create|list|revoke``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from framework.errors import InputError


def add_policy_arguments(p: Any, prefix: str = "") -> None:
    """The trust policy's allow-lists (``serve`` and ``mcp serve --http`` take the same)."""
    p.add_argument("--allow-model-host", action="append", default=[], metavar="HOST",
                   help=f"{prefix}a host (or HOST:PORT) app specs may send model requests to with "
                        "base_url; the server's provider keys go only to these (repeatable)")
    p.add_argument("--allow-env", action="append", default=[], metavar="NAME",
                   help=f"{prefix}an environment variable app specs may reference as env:NAME "
                        "(repeatable)")
    p.add_argument("--allow-tool-host", action="append", default=[], metavar="HOST",
                   help=f"{prefix}a host (or HOST:PORT) app tools may reach: HTTP/OpenAPI/web-search "
                        "allow-lists, SQL servers, MCP server URLs (repeatable)")
    p.add_argument("--allow-mcp-command", action="store_true",
                   help=f"{prefix}let apps start MCP servers as programs on this machine")


def policy_settings(args: Any) -> dict[str, Any]:
    """``ServerSettings`` fields from :func:`add_policy_arguments`' options."""
    return {"allow_model_hosts": list(args.allow_model_host), "allow_env": list(args.allow_env),
            "allow_tool_hosts": list(args.allow_tool_host),
            "allow_mcp_command": args.allow_mcp_command}


def add_trace_arguments(p: Any) -> None:
    """``serve``'s --preload and --otlp (issue 14)."""
    p.add_argument("--preload", action="store_true",
                   help="build every app before serving, so the first request does not wait "
                        "for a model to load")
    p.add_argument("--otlp", default=None, metavar="URL",
                   help="send every run's spans (redacted) to this OpenTelemetry collector "
                        "(OTLP/HTTP, e.g. http://127.0.0.1:4318)")


def start_serving(api: Any, settings: Any, args: argparse.Namespace) -> None:
    """Before uvicorn starts: traces to the server's PostgreSQL and to ``--otlp``, access-log
    lines on standard output, ``--preload``'s builds, and the start-up line."""
    from framework.server.access import preload, print_access_log, start_up_line
    from framework.tracing import configure

    if args.otlp:
        configure(otlp=args.otlp)
    if settings.postgres_url:
        configure(store=settings.postgres_url)
    print_access_log()
    if args.preload:
        preload(api.state.store)
    print(start_up_line(api.state.store.names(), args.host, args.port), flush=True)


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve apps over HTTP (OpenAI-compatible and native APIs)")
    p.add_argument("apps_dir", nargs="?", type=Path, default=Path("apps"),
                   help="folder of apps (each a folder with an app.yaml); default ./apps")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--redis", default=None, help="Redis URL for rate limits shared by servers")
    p.add_argument("--cors", action="append", default=[], help="allowed origin (repeatable)")
    p.add_argument("--postgres", default=None, metavar="URL",
                   help="keep every app's threads in PostgreSQL (servers can then share them)")
    add_trace_arguments(p)
    p.add_argument("--skip-eval-gate", default=None, metavar="REASON",
                   help="serve apps whose eval.min minimums are not met by their latest eval "
                        "(the publish gate); the reason is recorded in DATA/evals/APP.jsonl")
    add_policy_arguments(p)
    p.set_defaults(func=cmd_serve)

    k = sub.add_parser("keys", help="API keys for the server")
    ks = k.add_subparsers(dest="keys_command", metavar="KEYS_COMMAND", required=True)
    c = ks.add_parser("create", help="create a key; it is printed once, on the last line")
    c.add_argument("--app", action="append", required=True,
                   help="app the key may use (repeatable; '*' for every app and admin routes)")
    c.add_argument("--scope", choices=["use", "edit"], default="use",
                   help="use: run the apps and read the threads this key started (default); "
                        "edit: also change the apps' specs")
    c.set_defaults(func=cmd_keys_create)
    ls = ks.add_parser("list", help="list keys (never their values)")
    ls.set_defaults(func=cmd_keys_list)
    rv = ks.add_parser("revoke", help="revoke a key by its id")
    rv.add_argument("key_id")
    rv.set_defaults(func=cmd_keys_revoke)


def _keystore() -> Any:
    from framework.paths import subdir
    from framework.server.keys import KeyStore

    return KeyStore(subdir("server"))


def cmd_keys_create(args: argparse.Namespace) -> int:
    key = _keystore().create(args.app, args.scope)
    scope = "admin" if "*" in args.app else args.scope
    print(f"API key ({scope}) for {', '.join(args.app)} (shown once; store it safely):")
    print(key)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    print(json.dumps(_keystore().list(), indent=2))
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    if not _keystore().revoke(args.key_id):
        raise InputError(f"no key with id {args.key_id!r}; 'openbuilder keys list' shows them")
    print(f"revoked {args.key_id}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if not args.apps_dir.is_dir():
        raise InputError(f"apps folder {args.apps_dir} does not exist")
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InputError("serving needs the server extra: pip install 'openbuilder[server]'") from exc
    from framework.server import ServerSettings, create_app

    settings = ServerSettings(apps_dir=args.apps_dir, redis_url=args.redis,
                              cors_origins=list(args.cors),
                              **policy_settings(args))
    if args.postgres:
        settings.postgres_url = args.postgres
    api = create_app(settings)
    _publish_gate(api, args.skip_eval_gate)
    start_serving(api, settings, args)
    uvicorn.run(api, host=args.host, port=args.port, log_level="warning")
    return 0


def _publish_gate(api: Any, skip_reason: str | None) -> None:
    """Refuse to serve gated apps that fail their eval, unless ``--skip-eval-gate`` (recorded)."""
    import getpass
    import sys

    from framework.eval.gate import override
    from framework.server.eval_gate import failing, refusal_text

    found = failing(api.state.store, api.state.settings.eval_home)
    if not found:
        return
    if skip_reason is None:
        api.state.store.close()
        api.state.owners.close()
        raise InputError(refusal_text(found))
    for spec, result, _ in found:
        override(spec, by=f"cli:{getpass.getuser()}", reason=skip_reason,
                 home=api.state.settings.eval_home)
        print(f"warning: serving {spec.name!r} without meeting its eval minimums "
              f"(--skip-eval-gate, recorded): {'; '.join(result.reasons)}", file=sys.stderr)
