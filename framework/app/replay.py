"""Replay a finished run from one of its nodes: find the checkpoint taken just before the node ran
in that run (LangGraph's state history of the run's thread, between the run's start and end) and
run the graph on from it. The replay forks the thread at that checkpoint and is traced as a new run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from framework.agents.events import Event
from framework.app.runtime import App
from framework.errors import InputError
from framework.tracing import RUN_ID_KEY

SLACK_S = 0.001  # checkpoint times and trace times come from the same clock


def _when(snapshot: Any) -> float:
    created = getattr(snapshot, "created_at", None)
    return datetime.fromisoformat(created).timestamp() if created else 0.0


def checkpoint_before(app: App, run: dict[str, Any], node: str) -> Any:
    """The snapshot of ``run``'s thread taken when ``node`` was next to run (its first time)."""
    config = {"configurable": {"thread_id": run["thread_id"]}}
    history = list(app.graph.get_state_history(config))
    inside = [s for s in history if (s.metadata or {}).get(RUN_ID_KEY) == run["run_id"]]
    if not inside:  # checkpoints written without the run id: those within the run's time
        start = float(run["started"]) - SLACK_S
        end = float(run.get("ended") or run["started"]) + SLACK_S
        inside = [s for s in history if start <= _when(s) <= end]
    inside.sort(key=_when)
    for snapshot in inside:
        if node in (snapshot.next or ()):
            return snapshot
    ran = sorted({n for s in inside for n in (s.next or ()) if not n.startswith("__")})
    if not inside:
        raise InputError(f"run {run['run_id']}: its thread {run['thread_id']!r} has no checkpoints "
                         "from that run (a memory checkpointer, or the thread was deleted); "
                         "replay needs the app's checkpoints")
    raise InputError(f"run {run['run_id']} never ran node {node!r}; replay from one of: "
                     f"{', '.join(ran) or '(none)'}")


def replay(app: App, run: dict[str, Any], node: str, *, tokens: bool = False) -> Iterator[Event]:
    """The events of a new run that starts at ``node`` with the state it had in ``run``."""
    if run.get("app") != app.name:
        raise InputError(f"run {run['run_id']} is a run of app {run.get('app')!r}, not of "
                         f"{app.name!r}; pass that app")
    snapshot = checkpoint_before(app, run, node)
    checkpoint_id = snapshot.config["configurable"]["checkpoint_id"]
    return app._run(None, run["thread_id"], tokens=tokens, checkpoint_id=checkpoint_id)
