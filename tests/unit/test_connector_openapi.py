"""The openapi connector: one tool per operation, calls through the HTTP guard, malformed
documents refused with the problem named. Everything under the loopback-only socket guard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.utils.function_calling import convert_to_openai_tool

from framework.errors import ConfigError, ToolRefusedError
from framework.tools import capabilities_of, get_tools, side_effect
from framework.tools.errors import ModelRetry
from tests import netguard
from tests.netguard import LocalServer, NetGuard

net = netguard.net  # fixtures: the socket guard and a loopback server
server = netguard.server


def document(base: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Items", "version": "1"},
        "paths": {
            "/items": {
                "get": {"operationId": "listItems", "summary": "List items",
                        "parameters": [{"name": "limit", "in": "query",
                                        "schema": {"type": "integer"}},
                                       {"name": "tag", "in": "query",
                                        "schema": {"type": "array", "items": {"type": "string"}}}]},
            },
            "/items/{itemId}": {
                "parameters": [{"$ref": "#/components/parameters/ItemId"}],
                "get": {"operationId": "get item!", "summary": "One item",
                        "parameters": [{"name": "X-Trace", "in": "header",
                                        "schema": {"type": "string"}}]},
                "delete": {"operationId": "deleteItem"},
            },
            "/echo": {
                "post": {"operationId": "createItem", "summary": "Create an item",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/Item"}}}}},
            },
        },
        "components": {
            "parameters": {"ItemId": {"name": "itemId", "in": "path", "required": True,
                                      "schema": {"type": "string"}}},
            "schemas": {"Item": {"type": "object", "properties": {
                "name": {"type": "string"}, "child": {"$ref": "#/components/schemas/Item"}}}},
        },
    }
    if base:
        doc["servers"] = [{"url": base}]
    return doc


def write(tmp_path: Path, doc: Any, name: str = "api.yaml") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return str(path)


def by_name(tools: list[Any]) -> dict[str, Any]:
    return {t.name: t for t in tools}


def test_one_tool_per_operation_with_parameters_and_body_as_arguments(
        net: NetGuard, server: LocalServer, tmp_path: Path) -> None:
    spec = write(tmp_path, document(server.url))
    tools = by_name(get_tools("openapi", spec=spec, allow=[server.url], allow_private=True))
    assert sorted(tools) == ["createItem", "get_item", "listItems"]  # DELETE not in methods
    assert set(tools["get_item"].args) == {"itemId", "X-Trace"}
    create = convert_to_openai_tool(tools["createItem"])["function"]
    assert create["parameters"]["required"] == ["body"]
    assert create["parameters"]["properties"]["body"]["properties"]["name"] == {"type": "string"}
    assert len(json.dumps(create)) < 50_000  # the recursive Item schema is cut, not endless
    out = tools["listItems"].invoke({"limit": 2, "tag": ["a", "b"]})
    assert out["status"] == 200 and out["text"] == "hello from GET /items?limit=2&tag=a&tag=b"
    tools["get_item"].invoke({"itemId": "a b", "X-Trace": "t1"})
    assert server.requests[-1]["path"] == "/items/a%20b"
    assert server.requests[-1]["headers"]["X-Trace"] == "t1"
    created = tools["createItem"].invoke({"body": {"name": "pen"}})
    assert created["text"] == 'got {"name": "pen"}'


def test_reads_and_writes_are_declared_per_operation(
        net: NetGuard, server: LocalServer, tmp_path: Path) -> None:
    spec = write(tmp_path, document(server.url))
    tools = by_name(get_tools("openapi", spec=spec, allow=[server.url], allow_private=True,
                              methods=["GET", "POST", "DELETE"], prefix="shop_"))
    assert sorted(tools) == ["shop_createItem", "shop_deleteItem", "shop_get_item",
                             "shop_listItems"]
    assert not capabilities_of(tools["shop_listItems"]).side_effects
    assert side_effect(tools["shop_listItems"], {}) is None
    assert "DELETE" in (side_effect(tools["shop_deleteItem"], {"itemId": "1"}) or "")
    assert "POST" in (side_effect(tools["shop_createItem"], {"body": {}}) or "")


def test_the_document_from_a_url_is_fetched_through_the_guard(
        net: NetGuard, server: LocalServer) -> None:
    server.route("/openapi.json", json.dumps(document("/")), kind="application/json")
    tools = get_tools("openapi", spec=f"{server.url}/openapi.json", allow=[server.url],
                      allow_private=True)
    assert {t.name for t in tools} == {"createItem", "get_item", "listItems"}
    net.reset()
    server.requests.clear()
    with pytest.raises(ToolRefusedError, match="loopback"):
        get_tools("openapi", spec=f"{server.url}/openapi.json", allow=[server.url])
    with pytest.raises(ToolRefusedError, match="not under"):
        get_tools("openapi", spec="http://169.254.169.254/openapi.json", allow=[server.url])
    assert net.connects == [] and server.requests == []


def test_a_server_url_outside_the_allow_list_is_refused(net: NetGuard, tmp_path: Path) -> None:
    spec = write(tmp_path, document("http://169.254.169.254/api"))
    with pytest.raises(ToolRefusedError, match="not under the 'allow' setting"):
        get_tools("openapi", spec=spec, allow=["api.example.test"])
    assert net.connects == []


def test_calls_go_through_the_guard(net: NetGuard, tmp_path: Path) -> None:
    net.hosts["api.example.test"] = ["10.9.8.7"]
    spec = write(tmp_path, document("http://api.example.test/v1"))
    tool = by_name(get_tools("openapi", spec=spec, allow=["http://api.example.test/v1"]))["listItems"]
    with pytest.raises(ToolRefusedError, match="10.9.8.7"):
        tool.invoke({})
    assert net.connects == []


@pytest.mark.parametrize("args, word", [
    ({"itemId": "../admin"}, "cannot be empty, contain '/'"),
    ({"itemId": ".."}, "'..'"),
    ({}, "missing required"),
    ({"itemId": "1", "extra": 1}, "unknown arguments"),
])
def test_bad_arguments_are_model_retries_before_any_request(
        net: NetGuard, server: LocalServer, tmp_path: Path, args: dict[str, Any], word: str) -> None:
    spec = write(tmp_path, document(server.url))
    tool = by_name(get_tools("openapi", spec=spec, allow=[server.url], allow_private=True))["get_item"]
    with pytest.raises(ModelRetry, match=word):
        tool.invoke(args)
    assert server.requests == []


def test_argument_types_are_checked(net: NetGuard, server: LocalServer, tmp_path: Path) -> None:
    spec = write(tmp_path, document(server.url))
    tool = by_name(get_tools("openapi", spec=spec, allow=[server.url], allow_private=True))["listItems"]
    with pytest.raises(ModelRetry, match="'limit' must be a integer"):
        tool.invoke({"limit": "ten"})
    assert server.requests == []


def _broken(change: str) -> Any:
    doc = document("http://api.example.test")
    if change == "swagger":
        return {"swagger": "2.0", "paths": {"/x": {}}}
    if change == "no paths":
        del doc["paths"]
    elif change == "external ref":
        doc["paths"]["/items"]["get"]["parameters"] = [{"$ref": "http://evil.test/p.json"}]
    elif change == "dangling ref":
        doc["paths"]["/echo"]["post"]["requestBody"] = {"$ref": "#/components/requestBodies/X"}
    elif change == "undeclared path parameter":
        doc["paths"]["/items/{itemId}"]["parameters"] = []
    elif change == "nameless parameter":
        doc["paths"]["/items"]["get"]["parameters"] = [{"in": "query"}]
    elif change == "bad location":
        doc["paths"]["/items"]["get"]["parameters"] = [{"name": "a", "in": "body"}]
    elif change == "list":
        return [1, 2]
    elif change == "yaml":
        return "openapi: 3.0.0\npaths: {/x: [\n"
    return doc


@pytest.mark.parametrize("change, word", [
    ("swagger", "only OpenAPI 3.x"), ("no paths", "'paths' is missing"),
    ("external ref", "only local references"), ("dangling ref", "points to nothing"),
    ("undeclared path parameter", "{itemId} is not declared"),
    ("nameless parameter", "without a 'name'"), ("bad location", "'in: body'"),
    ("list", "top level must be a mapping"), ("yaml", "does not parse"),
])
def test_a_malformed_document_is_a_config_error_naming_the_problem(
        net: NetGuard, tmp_path: Path, change: str, word: str) -> None:
    spec = write(tmp_path, _broken(change))
    with pytest.raises(ConfigError, match=word):
        get_tools("openapi", spec=spec, allow=["api.example.test"])
    assert net.connects == []


@pytest.mark.parametrize("settings, word", [
    ({"spec": "file:///etc/passwd", "allow": ["x.test"]}, "file path or an http"),
    ({"spec": "/no/such/file.yaml", "allow": ["x.test"]}, "cannot be read"),
    ({"spec": "a.yaml"}, "allow"),
    ({"spec": "a.yaml", "allow": ["x.test"], "headers": {"X-Api-Key": "literal"}}, "reference"),
])
def test_bad_settings(net: NetGuard, settings: dict[str, Any], word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        get_tools("openapi", **settings)


def test_an_oversized_document_is_refused(net: NetGuard, tmp_path: Path) -> None:
    spec = write(tmp_path, document("http://api.example.test"))
    with pytest.raises(ConfigError, match="max_spec_bytes"):
        get_tools("openapi", spec=spec, allow=["api.example.test"], max_spec_bytes=100)


def test_references_that_multiply_are_refused_not_expanded(net: NetGuard, tmp_path: Path) -> None:
    doc = document("http://api.example.test")
    schemas = doc["components"]["schemas"]
    for level in range(8):  # each level refers to the next ten times: 10**8 nodes if expanded
        schemas[f"L{level}"] = {"type": "object", "properties": {
            f"p{i}": {"$ref": f"#/components/schemas/L{level + 1}"} for i in range(10)}}
    schemas["L8"] = {"type": "string"}
    doc["paths"]["/echo"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/L0"}
    with pytest.raises(ConfigError, match="expand past"):
        get_tools("openapi", spec=write(tmp_path, doc), allow=["api.example.test"])
