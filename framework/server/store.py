"""App definitions the server serves: files from the apps folder plus versions saved over HTTP.

Versions live in ``apps.sqlite`` (:class:`framework.app.versions.VersionStore`, shared with the
builder; one transaction per save, so concurrent PUTs each get their own version number and none
is lost). Built apps are cached per (name, version).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from framework.app import build
from framework.app.runtime import App
from framework.app.versions import FILE_NAME, VersionStore
from framework.errors import AppBusyError, ConfigError, UnknownAppError
from framework.server.policy import ServerPolicy, violations
from framework.spec import AppSpec, load_spec

__all__ = ["AppBusyError", "AppStore", "UnknownAppError"]

log = logging.getLogger("openbuilder.server")

MAX_BUILDS = 4  # builds running at once; more requests for apps not built yet get 503
BUILD_WAIT_S = 15.0  # how long a request waits for its app's build before a 503


class AppStore:
    """``policy``: apps that break it (from the folder, or saved before it applied) are not
    served; ``refused`` maps their names to the reason, and saving a good version clears it."""

    def __init__(self, apps_dir: Path, data_dir: Path, postgres_url: str | None = None,
                 policy: ServerPolicy | None = None) -> None:
        self.apps_dir = apps_dir
        self.policy = policy
        self.refused: dict[str, str] = {}
        self.postgres_url = postgres_url
        self.data_dir = data_dir
        self.path = data_dir / FILE_NAME
        self.versions_store = VersionStore(self.path)  # shared with the builder (same file)
        self._built: dict[tuple[str, int], App] = {}
        self._lock = threading.Lock()
        self._building: dict[tuple[str, int], Future[App]] = {}
        self._closed = False
        self.max_builds = MAX_BUILDS
        self.build_wait_s = BUILD_WAIT_S
        self._import_folder()
        self._check_saved()

    def _import_folder(self) -> None:
        """Apps in the folder become version 1 the first time the server sees them; one that
        does not load or breaks the policy is left out (logged), and the others are served."""
        if not self.apps_dir.is_dir():
            return
        for file in sorted(self.apps_dir.glob("*/app.yaml")):
            try:
                spec, base = load_spec(file)
            except ConfigError as exc:
                log.warning("app file %s is not served: %s", file, exc)
                continue
            exists = self.versions_store.exists(spec.name, live=False)
            if not exists and not self._refuse(spec, base, str(file)):
                self.save(spec, base)

    def _refuse(self, spec: AppSpec, base: Path, where: str) -> bool:
        """Whether ``spec`` breaks the policy (then it is logged and not served)."""
        found = violations(spec, self.policy, base) if self.policy else []
        if not found:
            return False
        reason = "; ".join(f"{field}: {rule}" for field, rule in found)
        log.warning("app %r (%s) breaks the server policy and is not served: %s", spec.name,
                    where, reason)
        self.refused[spec.name] = reason
        return True

    def _check_saved(self) -> None:
        """Versions saved before the policy applied are checked again at start."""
        for name in self.names():
            _, spec, base = self._latest(name)
            self._refuse(spec, base, "saved version")

    def refusal(self, name: str) -> str | None:
        """Why app ``name`` is not served, or None when it is."""
        return self.refused.get(name)

    def base_dir(self, name: str) -> Path:
        """The app's own folder: its latest version's (the folder of its app.yaml for apps from
        the apps folder), else ``DATA/apps/NAME`` for a new app."""
        versions = self.versions_store.versions(name)
        return versions[-1].base_dir if versions else self.data_dir / "apps" / name

    def save(self, spec: AppSpec, base_dir: Path | None = None) -> int:
        base = base_dir or self.base_dir(spec.name)
        base.mkdir(parents=True, exist_ok=True)
        version = self.versions_store.save(spec.name, spec, base)
        self.refused.pop(spec.name, None)  # callers check the policy before they save
        return version

    def delete(self, name: str) -> None:
        self._latest(name)
        self.versions_store.delete(name)
        with self._lock:
            for key in [k for k in self._built if k[0] == name]:
                self._built.pop(key).close()

    def names(self) -> list[str]:
        return [n for n in self.versions_store.names() if n not in self.refused]

    def _latest(self, name: str) -> tuple[int, AppSpec, Path]:
        found = self.versions_store.require(name)
        return found.version, found.spec, found.base_dir

    def spec(self, name: str, version: int | None = None) -> tuple[int, AppSpec]:
        if version is None:
            v, spec, _ = self._latest(name)
            return v, spec
        return version, self.versions_store.get(name, version).spec

    def versions(self, name: str) -> list[dict[str, Any]]:
        self._latest(name)
        return [{"version": v.version, "created": v.created, "spec_version": v.spec.version}
                for v in self.versions_store.versions(name)]

    def building(self, name: str) -> Future[App]:
        """The built app for the latest version: done when cached, else the running build's
        future. Builds run outside every lock, one per (name, version), in threads of their own
        (never the server's thread pool); a newer version never waits for an older one's build.

        Raises ``AppBusyError`` when ``max_builds`` builds are already running.
        """
        version, spec, base = self._latest(name)
        key = (name, version)
        with self._lock:
            built = self._built.get(key)
            if built is not None:
                done: Future[App] = Future()
                done.set_result(built)
                return done
            future = self._building.get(key)
            if future is not None:
                return future
            if len(self._building) >= self.max_builds:
                raise AppBusyError(f"{self.max_builds} apps are being built; retry shortly")
            future = self._building[key] = Future()
        threading.Thread(target=self._build, args=(key, spec, base, future),
                         name=f"openbuilder-build-{name}", daemon=True).start()
        return future

    def _build(self, key: tuple[str, int], spec: AppSpec, base: Path, future: Future[App]) -> None:
        try:
            if self.postgres_url:
                from framework.spec.models import CheckpointConfig

                spec = spec.model_copy(update={"checkpoints": CheckpointConfig(
                    backend="postgres", url=self.postgres_url)})
            built = build(spec, base)
        except BaseException as exc:  # noqa: BLE001 - handed to every request waiting for it
            with self._lock:
                self._building.pop(key, None)
            future.set_exception(exc)
            return
        with self._lock:
            self._building.pop(key, None)
            if self._closed:
                built.close()
            else:
                self._built[key] = built
        future.set_result(built)

    def app(self, name: str, timeout: float | None = None) -> App:
        """The built app for the latest version (built once, then cached); ``AppBusyError`` when
        its build takes longer than ``timeout`` (default ``build_wait_s``)."""
        future = self.building(name)
        try:
            return future.result(self.build_wait_s if timeout is None else timeout)
        except FutureTimeout:
            raise AppBusyError(f"app {name!r} is still being built; retry shortly") from None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for app in self._built.values():
                app.close()
            self._built.clear()
        self.versions_store.close()
