"""One error tree: every exception class defined in framework/ and connectors/ is an
OpenBuilderError and is drawn in framework/errors.py's docstring; confusing pairs are one class or
clearly apart."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import framework.errors as errors
from framework.errors import AppRunError, ModelTimeoutError, OpenBuilderError, RunTimeoutError
from tests.conftest import ROOT


def _modules_defining_classes() -> list[str]:
    names = []
    for folder in ("framework", "connectors"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(isinstance(node, ast.ClassDef) and node.bases for node in ast.walk(tree)):
                names.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return names


def _exception_classes() -> list[type[BaseException]]:
    found = []
    for name in _modules_defining_classes():
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # an optional extra that is not installed here
            pytest.skip(f"{name} needs {exc.name}")
        found += [obj for _, obj in inspect.getmembers(module, inspect.isclass)
                  if issubclass(obj, BaseException) and obj.__module__ == name]
    return found


def _drawn_names() -> set[str]:
    tree = (errors.__doc__ or "").split("::", 1)[1]
    return set(re.findall(r"[─└├]── (\w+)", tree)) | {"OpenBuilderError"}


def test_every_exception_class_is_in_the_tree() -> None:
    classes = _exception_classes()
    assert len(classes) >= 30  # the walk found them (errors.py alone defines over 25)
    outside = [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, OpenBuilderError)]
    assert outside == [], "derive these from a class of framework.errors"
    public = {c.__name__ for c in classes if not c.__name__.startswith("_")}
    assert sorted(public - _drawn_names()) == [], "draw these in framework/errors.py's docstring"


def test_the_drawing_matches_the_classes() -> None:
    """Each drawn class exists, and its parent in the drawing is its parent in the code."""
    classes = {c.__name__: c for c in _exception_classes()}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").split("::", 1)[1].splitlines():
        match = re.search(r"[─└├]── (\w+)", line) or re.match(r"\s{4}(OpenBuilderError)\b", line)
        if not match:
            continue
        depth = match.start(1)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        name = match.group(1)
        assert name in classes, f"{name} is drawn but not defined"
        if stack:
            assert issubclass(classes[name], classes[stack[-1][1]]), (name, stack[-1][1])
        stack.append((depth, name))


def test_run_error_and_app_run_error_are_one_class() -> None:
    from framework.agents.errors import RunError

    assert RunError is AppRunError
    err = AppRunError("stopped", [{"role": "user", "content": "hi"}])
    assert err.transcript == [{"role": "user", "content": "hi"}]


def test_the_two_timeouts_are_apart_and_say_which_they_are() -> None:
    assert not issubclass(RunTimeoutError, ModelTimeoutError)
    assert not issubclass(ModelTimeoutError, RunTimeoutError)
    assert "limits.timeout" in (RunTimeoutError.__doc__ or "")
    assert "ModelConfig.timeout" in (ModelTimeoutError.__doc__ or "")


def test_raisers_re_export_their_classes() -> None:
    from framework.app import runtime
    from framework.registry import DuplicateNameError
    from framework.server import limits, store
    from framework.tools import ToolFailedError

    assert runtime.RunCancelled is errors.RunCancelled
    assert store.UnknownAppError is errors.UnknownAppError and store.AppBusyError is errors.AppBusyError
    assert limits.QueueFull is errors.QueueFull and DuplicateNameError is errors.DuplicateNameError
    assert ToolFailedError is errors.ToolFailedError
    assert Path(errors.__file__).name == "errors.py"
