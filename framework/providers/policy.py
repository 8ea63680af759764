"""Privacy policy: ``local_only`` admits only models whose calls never leave this machine.

"Local" is read from the model's profile (in-process llama.cpp, the fake model, or an
OpenAI-wire server on a loopback address), never from its class. :func:`check_model_id` refuses a
remote model *before* it is built, so nothing is constructed, resolved or connected;
:func:`enforce` checks a built model, every model of a fallback chain included.
"""

from __future__ import annotations

from typing import Any, Literal

from framework.errors import ConfigError, PolicyError
from framework.providers.base import profile_of, split_model_id

Privacy = Literal["any", "local_only"]
POLICIES: tuple[str, ...] = ("any", "local_only")


def _check_policy(privacy: str) -> None:
    if privacy not in POLICIES:
        raise ConfigError(f"privacy {privacy!r} is not a policy; use one of: {', '.join(POLICIES)}")


def _refuse(model_id: str, where: str | None) -> PolicyError:
    target = f" (it sends prompts to {where})" if where else ""
    return PolicyError(
        f"privacy is 'local_only' but model {model_id!r} is remote{target}; use a 'local:' model "
        "or an OpenAI-compatible server on a loopback address (base_url http://127.0.0.1:PORT/v1),"
        " or set privacy: any"
    )


def check_model_id(model_id: str, privacy: str, settings: dict[str, Any] | None = None) -> None:
    """Refuse ``model_id`` under ``privacy`` without building it (no import, no connection)."""
    _check_policy(privacy)
    if privacy == "any":
        return
    from framework.providers.presets import is_loopback, presets

    provider, _ = split_model_id(model_id)
    pre = presets().get(provider)
    if pre is None:
        return  # a plugin provider: judged by the profile of the built model (enforce)
    if pre.kind in ("local", "fake"):
        return
    url = (settings or {}).get("base_url") or pre.base_url
    if not is_loopback(url):
        raise _refuse(model_id, url)


def enforce(model: Any, privacy: str) -> None:
    """Refuse a built model (or any model inside its wrappers) that is not local."""
    _check_policy(privacy)
    if privacy == "any":
        return
    from framework.providers.wrappers import leaf_models

    for leaf in leaf_models(model):
        profile = profile_of(leaf)
        if not profile.local:
            model_id = (leaf.metadata or {}).get("openbuilder_model_id") or type(leaf).__name__
            raise _refuse(str(model_id), profile.endpoint)
