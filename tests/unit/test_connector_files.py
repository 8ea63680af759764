"""The ``files`` connector: reads, lists and searches under its root; every escape the issue names
is refused before anything is read or written, and writes happen only when allowed, atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import BaseTool

from connectors.files import FilesSettings, tools
from connectors.files.paths import Root
from framework.errors import ConfigError, ToolRefusedError
from framework.testing.tool_conformance import ToolConformance
from framework.tools import ModelRetry, capabilities_of, side_effect

SECRET = "outside-secret-text"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/ with docs, a symlink inside the root, and three symlinks that lead outside it."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "docs").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (root / "docs" / "a.md").write_text("# A\nThe invoice is due on Friday.\n")
    (root / "docs" / "b.txt").write_text("nothing here\n")
    (root / "docs" / "bin.dat").write_bytes(b"\x00\x01invoice")
    (root / "alias.md").symlink_to("docs/a.md")
    (root / "out_dir").symlink_to(outside)
    (root / "docs" / "out_file.txt").symlink_to(outside / "secret.txt")
    (root / "dangling").symlink_to(outside / "new.txt")
    return root


def _call(root: Path, **args: Any) -> str:
    return str(tools(root=str(root))[0].invoke(args))


def _outside_untouched(tree: Path) -> None:
    outside = tree.parent / "outside"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == SECRET


def test_read_list_and_search_under_the_root(tree: Path) -> None:
    assert _call(tree, path="docs/a.md").startswith("# A")
    assert _call(tree, path="alias.md").startswith("# A")  # a symlink that stays inside
    listing = _call(tree, operation="list")
    assert listing.splitlines() == [".:", "alias.md (symlink)", "dangling (symlink)", "docs/",
                                    "out_dir (symlink)"]
    assert _call(tree, operation="search", query="INVOICE") == "docs/a.md:2: The invoice is due on Friday."
    assert _call(tree, operation="search", pattern="*.md") == "alias.md\ndocs/a.md"
    assert "binary file" in _call(tree, path="docs/bin.dat")


@pytest.mark.parametrize("path", ["../../etc/passwd", "docs/../../outside/secret.txt", "..",
                                  "/etc/passwd", str(Path("/") / "tmp"), "~/.bashrc"])
def test_escapes_by_name_are_refused(tree: Path, path: str) -> None:
    for operation in ("read", "list", "search"):
        with pytest.raises(ToolRefusedError, match="files refused") as info:
            _call(tree, operation=operation, path=path, query="x")
        assert "'root'" in str(info.value) and SECRET not in str(info.value)


@pytest.mark.parametrize("path", ["out_dir/secret.txt", "docs/out_file.txt", "out_dir"])
def test_symlinks_out_of_the_root_are_refused(tree: Path, path: str) -> None:
    for operation in ("read", "list"):
        with pytest.raises(ToolRefusedError, match="outside the root folder through a symlink"):
            _call(tree, operation=operation, path=path)


def test_search_never_follows_a_symlink_out(tree: Path) -> None:
    assert SECRET not in _call(tree, operation="search", query="secret")
    assert _call(tree, operation="search", query="outside-secret") == "no matches"


def test_a_symlink_swapped_in_after_the_check_is_not_followed(tree: Path) -> None:
    """The open walks every component with O_NOFOLLOW, so a race past realpath gains nothing."""
    root = Root(tree)
    with pytest.raises(ToolRefusedError, match="not a plain folder"):
        root.open_file(["out_dir", "secret.txt"])
    with pytest.raises(ToolRefusedError, match="cannot be opened safely"):
        root.open_file(["docs", "out_file.txt"])


def test_a_name_with_nul_is_refused(tree: Path) -> None:
    with pytest.raises(ToolRefusedError, match="NUL"):
        _call(tree, path="docs/a.md\x00.txt")
    with pytest.raises(ToolRefusedError, match="NUL"):
        tools(root=str(tree), allow_writes=True)[0].invoke(
            {"operation": "write", "path": "x\x00y", "content": "z"})
    assert not any("\x00" in p.name or p.name.startswith("x") for p in tree.rglob("*"))


def test_writes_are_refused_by_default(tree: Path) -> None:
    (tool,) = tools(root=str(tree))
    assert not capabilities_of(tool).side_effects and capabilities_of(tool).writes == []
    before = sorted(str(p) for p in tree.rglob("*"))
    with pytest.raises(ToolRefusedError, match="'allow_writes'"):
        tool.invoke({"operation": "write", "path": "new.txt", "content": "hello"})
    with pytest.raises(ToolRefusedError, match="'allow_writes'"):
        tool.invoke({"operation": "write", "path": "docs/a.md", "content": "hello"})
    assert sorted(str(p) for p in tree.rglob("*")) == before
    assert (tree / "docs" / "a.md").read_text().startswith("# A")


def test_allowed_writes_stay_under_the_root_and_declare_their_effect(tree: Path) -> None:
    (tool,) = tools(root=str(tree), allow_writes=True, max_bytes=100)
    caps = capabilities_of(tool)
    assert caps.side_effects and caps.writes == [os.path.realpath(tree)]
    args = {"operation": "write", "path": "notes/new.md", "content": "héllo"}
    assert side_effect(tool, args) == "file write: notes/new.md (6 bytes)"
    assert side_effect(tool, {"operation": "read", "path": "docs/a.md"}) is None
    assert tool.invoke(args) == "wrote 6 bytes to notes/new.md"
    assert (tree / "notes" / "new.md").read_text() == "héllo"
    assert not [p for p in tree.rglob("*.tmp")]  # atomic: no temporary file left behind
    for path in ("out_dir/new.txt", "dangling", "docs/out_file.txt", "../outside/new.txt",
                 str(tree.parent / "outside" / "new.txt")):
        with pytest.raises(ToolRefusedError):
            tool.invoke({"operation": "write", "path": path, "content": "pwned"})
    with pytest.raises(ToolRefusedError, match="over the limit of 100"):
        tool.invoke({"operation": "write", "path": "big.txt", "content": "x" * 101})
    assert not (tree / "big.txt").exists()
    _outside_untouched(tree)


def test_reads_are_capped_at_max_bytes(tree: Path) -> None:
    (tree / "big.txt").write_text("y" * 5000)
    out = tools(root=str(tree), max_bytes=1000)[0].invoke({"path": "big.txt"})
    assert out.startswith("y" * 1000) and "truncated: the file is 5,000 bytes" in out
    assert len(out) < 1200


def test_the_model_gets_fixable_errors_as_model_retry(tree: Path) -> None:
    with pytest.raises(ModelRetry, match="no file"):
        _call(tree, path="docs/missing.md")
    with pytest.raises(ModelRetry, match="is a folder"):
        _call(tree, path="docs")
    with pytest.raises(ModelRetry, match="'query'"):
        _call(tree, operation="search")
    with pytest.raises(ModelRetry, match="is a file, not a folder"):
        _call(tree, operation="list", path="docs/a.md")


def test_settings(tmp_path: Path) -> None:
    assert tools.settings_model is FilesSettings  # type: ignore[attr-defined]
    schema = FilesSettings.model_json_schema()
    assert schema["additionalProperties"] is False
    assert all(p.get("description") for p in schema["properties"].values())
    (missing,) = tools(root=str(tmp_path / "missing"))  # builds (listable), refuses when called
    with pytest.raises(ConfigError, match="not a folder"):
        missing.invoke({"operation": "list"})
    assert not (tmp_path / "missing").exists()
    with pytest.raises(ConfigError, match="bad files settings"):
        tools(root=str(tmp_path), writes=True)


def test_a_prefix_names_the_tool(tree: Path) -> None:
    assert tools(root=str(tree), prefix="docs")[0].name == "docs_files"


class TestFilesToolConformance(ToolConformance):
    valid_args = {"operation": "list", "path": "."}
    bad_args = [{"path": "missing.txt"}, {"operation": "search"}, {"operation": "delete"},
                {"path": "docs"}]

    @pytest.fixture(autouse=True)
    def _root(self, tree: Path) -> None:
        self.root = tree

    def tool(self) -> BaseTool:
        return tools(root=str(self.root))[0]
