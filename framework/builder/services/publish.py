"""Publishing an app: its YAML and exported Python program, an API key for it (the key store
``openbuilder keys create`` uses), the commands and snippets to call it, and whether a server on
this machine is up and serving it. No Streamlit here."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from framework.builder.services.apps import LoadedApp, yaml_text
from framework.eval.gate import GateResult
from framework.eval.records import EvalRecord
from framework.settings import variable

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
KEY_PLACEHOLDER = "YOUR_API_KEY"


@dataclass(frozen=True)
class ServerStatus:
    """``running``: something answered ``/health``; ``serving``: the app is listed by
    ``/v1/models`` (None when that could not be asked: no key given); ``detail`` says which."""

    url: str
    running: bool
    serving: bool | None
    detail: str


class PublishService:
    def __init__(self, apps_dir: Path, home: Path) -> None:
        self.apps_dir = Path(apps_dir)
        self.home = Path(home)

    def yaml_bytes(self, app: LoadedApp) -> bytes:
        return yaml_text(app.spec).encode("utf-8")

    def program(self, app: LoadedApp) -> str:
        """The exported Python program (``openbuilder export``); ``ConfigError`` for a graph kind
        without an exporter."""
        from framework.app.exporting import export_python

        return export_python(app.spec, app.base_dir)

    def create_key(self, name: str, scope: str = "use") -> str:
        """A new API key for app ``name`` (returned once; only its hash is kept)."""
        from framework.server.keys import KeyStore

        return KeyStore(self.home / "server").create([name], scope)

    def keys_for(self, name: str) -> list[dict[str, object]]:
        """Keys that may use ``name`` (ids and scopes, never values)."""
        from framework.server.keys import KeyStore

        return [k for k in KeyStore(self.home / "server").list()
                if not k["revoked"] and name in k["apps"]]  # type: ignore[operator]

    def serve_command(self, port: int = DEFAULT_PORT) -> str:
        home = shlex.quote(str(self.home))
        return (f"{variable('home')}={home} openbuilder serve {shlex.quote(str(self.apps_dir))} "
                f"--port {port}")

    def base_url(self, port: int = DEFAULT_PORT) -> str:
        return f"http://{DEFAULT_HOST}:{port}"

    def openai_snippet(self, name: str, key: str | None = None, port: int = DEFAULT_PORT) -> str:
        return (
            "from openai import OpenAI\n\n"
            f'client = OpenAI(base_url="{self.base_url(port)}/v1", api_key="{key or KEY_PLACEHOLDER}")\n'
            "reply = client.chat.completions.create(\n"
            f'    model="{name}",\n'
            '    messages=[{"role": "user", "content": "Hello!"}],\n'
            ")\n"
            "print(reply.choices[0].message.content)\n")

    def curl_line(self, name: str, key: str | None = None, port: int = DEFAULT_PORT) -> str:
        body = json.dumps({"model": name, "messages": [{"role": "user", "content": "Hello!"}]})
        return (f"curl -s {self.base_url(port)}/v1/chat/completions "
                f"-H 'Authorization: Bearer {key or KEY_PLACEHOLDER}' "
                f"-H 'Content-Type: application/json' -d {shlex.quote(body)}")

    def gate(self, app: LoadedApp) -> GateResult:
        """The publish gate for the app's saved version (:func:`framework.eval.gate.check`)."""
        from framework.eval.gate import check

        return check(app.spec, home=self.home, where=str(app.base_dir))

    def skip_gate(self, app: LoadedApp, reason: str, by: str | None = None) -> EvalRecord:
        """Publish without meeting the minimums: recorded with ``by`` (default
        ``builder:USER``) and ``reason`` (``InputError`` when empty)."""
        import getpass

        from framework.eval.gate import override

        return override(app.spec, by=by or f"builder:{getpass.getuser()}", reason=reason,
                        home=self.home)

    def probe(self, name: str, key: str | None = None, port: int = DEFAULT_PORT,
              timeout: float = 0.5) -> ServerStatus:
        """Whether a server on this machine answers, and (with a key) whether it serves ``name``."""
        import httpx

        url = self.base_url(port)
        try:
            health = httpx.get(f"{url}/health", timeout=timeout)
        except httpx.HTTPError:
            return ServerStatus(url, False, False, f"not running: nothing answers at {url}")
        if health.status_code != 200:
            return ServerStatus(url, False, False,
                                f"not running: {url}/health answered {health.status_code}")
        if not key:
            return ServerStatus(url, True, None, f"a server is running at {url}; give a key "
                                "for this app to check that it serves it")
        try:
            models = httpx.get(f"{url}/v1/models", timeout=timeout,
                               headers={"Authorization": f"Bearer {key}"})
            if models.status_code != 200:
                return ServerStatus(url, True, None, f"a server is running at {url}; it refused "
                                    f"the key ({models.status_code}): it may use another data "
                                    "folder")
            listed = {m.get("id") for m in models.json().get("data", [])}
        except (httpx.HTTPError, ValueError, AttributeError):
            return ServerStatus(url, True, None, f"a server is running at {url}, but its model "
                                "list could not be read")
        serving = name in listed
        return ServerStatus(url, True, serving, f"serving {name}" if serving
                            else f"a server is running at {url} but does not serve {name}")
