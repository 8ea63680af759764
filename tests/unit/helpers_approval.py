"""A counting side-effect tool for approval tests: ``mailer`` sends (counts) an email; with
``dry_run`` the call has no side effect. Registered by :func:`register_mailer`."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from langchain_core.messages import AIMessage

from framework.app import build
from framework.app.runtime import App
from framework.spec import parse_spec
from framework.tools import Capabilities, declare, register_tool, tool

SENT: list[dict[str, Any]] = []
"""Every email the mailer really sent, in order."""


def _effect(args: dict[str, Any]) -> str | None:
    return None if args.get("dry_run") is True else f"it sends an email to {args.get('to')!r}"


def make_mailer(**settings: Any) -> Any:
    if settings:
        raise TypeError(f"mailer takes no settings, got {sorted(settings)}")

    def send_email(to: str, body: str, dry_run: bool = False) -> str:
        """Send an email.

        Args:
            to: the address
            body: the text
            dry_run: only check the address, send nothing
        """
        if dry_run:
            return f"{to} is a valid address"
        SENT.append({"to": to, "body": body})
        return f"sent to {to}"

    caps = Capabilities(network=["smtp.example.org"], secrets=["env:SMTP_PASSWORD"],
                        side_effects=True, notes="sends email")
    return declare(tool(send_email), caps, effect=_effect)


def register_mailer() -> None:
    SENT.clear()
    register_tool("mailer", make_mailer, replace=True)


def call(to: str, body: str = "hi", **extra: Any) -> str:
    """A scripted model reply calling the mailer."""
    return json.dumps({"tool": "send_email", "args": {"to": to, "body": body, **extra}})


def tool_calls(*calls: tuple[str, dict[str, Any]]) -> AIMessage:
    """One model reply with several tool calls."""
    return AIMessage(content="", tool_calls=[{"name": n, "args": a, "id": f"c{i}", "type": "tool_call"}
                                             for i, (n, a) in enumerate(calls)])


def app_with(text: str, responses: list[Any]) -> App:
    """An app from YAML whose model is fake:scripted with ``responses`` (AIMessages allowed)."""
    spec = parse_spec(textwrap.dedent(text))
    spec.model.settings["responses"] = responses
    return build(spec, ".")


def asked(answer: Any) -> dict[str, Any]:
    """The approval an answer stops at (it must stop at one)."""
    assert answer.interrupt is not None, f"no approval asked; answer: {answer.answer!r}"
    return dict(answer.interrupt)
