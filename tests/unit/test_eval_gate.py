"""The publish gate: an app with eval.min is published only when the latest eval of exactly
its version met every minimum on the app's own model; an explicit, recorded override skips it.
Checked through gate.check, `openbuilder serve` and the server's PUT /apps/NAME."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from framework.errors import InputError
from framework.eval import records
from framework.eval.gate import check, override
from framework.spec import AppSpec, load_spec
from tests.conftest import cli_main, write_fake_app

GATED = "eval:\n  dataset: eval.jsonl\n  min:\n    answer_f1: 0.5\n    hit_at_k: 0.8\n"


def _app(folder: Path, name: str = "gated", extra: str = GATED) -> AppSpec:
    write_fake_app(folder / name, name=name, extra=extra)
    return load_spec(folder / name / "app.yaml")[0]


def _evaluated(spec: AppSpec, home: Path, **scores: Any) -> None:
    """A finished eval of ``spec`` on its own model (None: a metric the run could not measure)."""
    records.record_run(spec, home / "run", {spec.model.id: dict(scores)}, home=home)


def test_apps_without_minimums_are_not_gated(tmp_path: Path) -> None:
    for i, extra in enumerate(("", "eval:\n  dataset: eval.jsonl\n")):
        spec = _app(tmp_path / str(i), extra=extra)
        result = check(spec, home=tmp_path)
        assert result.ok and not result.gated and result.allowed and not result.reasons


def test_no_eval_of_this_version_is_refused(tmp_path: Path) -> None:
    spec = _app(tmp_path)
    result = check(spec, home=tmp_path, where="apps/gated")
    assert result.gated and not result.ok and not result.allowed
    assert result.reasons == ["no eval of this version: run openbuilder eval apps/gated"]
    assert "app 'gated' is below its eval minimums" in result.message()


def test_each_metric_below_its_minimum_is_named(tmp_path: Path) -> None:
    spec = _app(tmp_path)
    _evaluated(spec, tmp_path, answer_f1=0.42, hit_at_k=0.9)
    result = check(spec, home=tmp_path)
    assert not result.ok and result.reasons == ["answer_f1 0.420 < min 0.5"]
    _evaluated(spec, tmp_path, answer_f1=0.42, hit_at_k=None)
    assert check(spec, home=tmp_path).reasons == [
        "answer_f1 0.420 < min 0.5",
        "hit_at_k was not measured (min 0.8); check the test set has what hit_at_k needs"]
    _evaluated(spec, tmp_path, answer_f1=0.5, hit_at_k=0.8)  # the latest eval decides
    passed = check(spec, home=tmp_path)
    assert passed.ok and passed.allowed and passed.record is not None


def test_the_apps_own_model_must_have_been_evaluated(tmp_path: Path) -> None:
    spec = _app(tmp_path)
    records.record_run(spec, tmp_path / "run", {"local:qwen2.5-coder-0.5b": {
        "answer_f1": 0.9, "hit_at_k": 1.0}}, home=tmp_path)
    [reason] = check(spec, home=tmp_path).reasons
    assert "not the app's own model fake:echo" in reason and "--models fake:echo" in reason


def test_a_changed_app_needs_a_new_eval_but_changed_minimums_do_not(tmp_path: Path) -> None:
    spec = _app(tmp_path)
    _evaluated(spec, tmp_path, answer_f1=0.7, hit_at_k=0.9)
    changed = spec.model_copy(update={"description": "a new prompt"})
    assert check(changed, home=tmp_path).reasons[0].startswith("no eval of this version")
    assert spec.eval is not None
    stricter = spec.model_copy(update={"eval": spec.eval.model_copy(
        update={"min": {"answer_f1": 0.8}})})
    assert check(stricter, home=tmp_path).reasons == ["answer_f1 0.700 < min 0.8"]


def test_an_override_is_recorded_and_lasts_until_the_next_eval(tmp_path: Path) -> None:
    spec = _app(tmp_path)
    with pytest.raises(InputError, match="needs a reason"):
        override(spec, by="cli:me", reason="  ")
    override(spec, by="cli:me", reason="hotfix, eval tomorrow", home=tmp_path)
    result = check(spec, home=tmp_path)
    assert not result.ok and result.allowed
    assert result.overridden is not None and result.overridden.override is not None
    assert result.overridden.override["by"] == "cli:me"
    assert result.overridden.override["reason"] == "hotfix, eval tomorrow"
    line = json.loads(records.records_path("gated", tmp_path).read_text().splitlines()[-1])
    assert line["override"]["at"] > 0 and line["models"] == {}
    _evaluated(spec, tmp_path, answer_f1=0.1, hit_at_k=0.1)  # a newer, failing eval decides
    assert not check(spec, home=tmp_path).allowed


# ---- openbuilder serve ------------------------------------------------------------------------


def test_serve_refuses_a_gated_app_below_its_minimums(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    spec = _app(apps)
    write_fake_app(apps / "plain", name="plain")
    home = tmp_path / "home"
    _evaluated(spec, home, answer_f1=0.3, hit_at_k=0.95)
    proc = cli_main("serve", str(apps), "--port", "9", env={"OPENBUILDER_HOME": str(home)})
    assert proc.returncode == 2, proc.stderr  # InputError: bad input, not a crash
    assert "app 'gated' is below its eval minimums: answer_f1 0.300 < min 0.5" in proc.stderr
    assert f"fix: openbuilder eval {apps / 'gated'} --models fake:echo" in proc.stderr
    assert "--skip-eval-gate REASON" in proc.stderr and "plain" not in proc.stderr


@pytest.mark.slow
def test_serve_with_skip_eval_gate_serves_and_records_it(tmp_path: Path) -> None:
    from tests.server.conftest import start_server, stop

    apps, home = tmp_path / "apps", tmp_path / "home"
    _app(apps)
    url, proc = start_server(home, apps, "--skip-eval-gate", "demo for the board")
    try:
        [line] = records.records_path("gated", home).read_text().splitlines()
        assert json.loads(line)["override"]["reason"] == "demo for the board"
    finally:
        stop(proc)
    log = (home.parent / f"server-{url.rsplit(':', 1)[1]}.log").read_text()
    assert "serving 'gated' without meeting its eval minimums" in log


# ---- PUT /apps/NAME ---------------------------------------------------------------------------


def test_put_of_a_gated_version_is_refused_unless_overridden(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from framework.server import ServerSettings, create_app
    from tests.server.conftest import create_key

    apps, home = tmp_path / "apps", tmp_path / "home"
    write_fake_app(apps / "gated", name="gated")  # served ungated at first
    key = create_key(home, "gated", scope="edit")
    settings = ServerSettings(apps_dir=apps, data_dir=home / "server", eval_home=home)
    spec = _app(tmp_path / "new")  # the same app, now with eval.min
    body = spec.model_dump(mode="json")
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings)) as client:
        refused = client.put("/apps/gated", json=body, headers=auth)
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["type"] == "eval_gate"
        assert error["reasons"] == ["no eval of this version: run openbuilder eval APP_FOLDER"]
        assert "skip_eval_gate=REASON" in error["message"]
        assert [v["version"] for v in client.get("/apps/gated/versions", headers=auth).json()
                ] == [1]
        empty = client.put("/apps/gated", json=body, headers=auth, params={"skip_eval_gate": ""})
        assert empty.status_code == 422 and "needs a reason" in empty.json()["error"]["message"]
        forced = client.put("/apps/gated", json=body, headers=auth,
                            params={"skip_eval_gate": "customer demo"})
        assert forced.status_code == 200 and forced.json()["version"] == 2
        [record] = [r for r in records.history("gated", home) if r.override]
        assert record.override is not None and record.override["reason"] == "customer demo"
        assert record.override["by"].startswith("key:")
        described = spec.model_copy(update={"description": "evaluated"})
        _evaluated(described, home, answer_f1=0.6, hit_at_k=0.9)
        ok = client.put("/apps/gated", json=described.model_dump(mode="json"), headers=auth)
        assert ok.status_code == 200 and ok.json()["version"] == 3
