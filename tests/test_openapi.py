"""The OpenAPI description: served as JSON, valid OpenAPI 3.1 (schemathesis loads it), covering every JSON
route of the app with the models the routes read; and the 5xx classes the fuzzer found, answered as the
client's errors."""

from __future__ import annotations

import pytest
import schemathesis
from starlette.routing import Route

from server.openapi import OPERATIONS, URL, document


def json_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            found |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
    return found


def test_every_json_route_of_the_app_is_described(app):
    described = {(m.upper(), p) for p, ops in document()["paths"].items() for m in ops}
    missing = json_routes(app) - described
    assert not missing, f"routes missing from server/openapi.py OPERATIONS: {sorted(missing)}"
    stale = described - json_routes(app)
    assert not stale, f"described routes the app does not have: {sorted(stale)}"


def test_bodies_come_from_the_routes_own_models():
    doc = document()
    login = doc["paths"]["/api/session"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert login == {"$ref": "#/components/schemas/Login"}
    schemas = doc["components"]["schemas"]
    assert set(schemas["Login"]["properties"]) == {"username", "password"}
    # the push: the envelope and each kind of edit, as sync/protocol.py declares them
    assert {"AnswerEdit", "StatusEdit", "ResolveEdit", "CreateEdit", "CommentEdit", "PushBody"} <= set(schemas)
    assert schemas["PushBody"]["additionalProperties"] is False
    evidence = doc["paths"]["/api/evidence/{sha256}"]["put"]
    assert "application/octet-stream" in evidence["requestBody"]["content"]
    assert {p["name"] for p in evidence["parameters"] if p["required"]} == {"sha256", "offset", "size"}


async def test_the_description_is_served_as_json_and_loads_as_openapi_3_1(anon):
    r = await anon.get(URL)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(doc)  # refuses a document that is not valid OpenAPI
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert len(labels) == len(OPERATIONS)
    assert "POST /api/sync/push" in labels


@pytest.mark.parametrize(
    "path",
    [
        "/api/checklists/" + "x" * 40,
        "/api/checklists/" + "ằ" * 37 + "/changes",
        "/api/checklists/" + "y" * 37 + "/timeline",
        "/api/checklists/" + "z" * 37 + "/edits",
    ],
)
async def test_an_id_longer_than_its_column_is_refused_not_a_500(login, path):
    """Found by the fuzzer: Tortoise checks a lookup value against the column's length and raised its
    ValidationError, which became a text/plain 500. Now every such value is a JSON 422, on every route."""
    admin = await login("admin")
    r = await admin.get(path)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid"
    assert r.json()["message"]


async def test_an_unforeseen_failure_is_a_json_500_naming_the_request_id(app, anon):
    """The last resort, tried with a route that fails on purpose (added to this app instance only)."""

    async def broken(request):
        raise RuntimeError("planted")

    app.router.routes.append(Route("/api/__planted_failure", broken))
    from httpx import ASGITransport, AsyncClient

    async with AsyncClient(
        transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
    ) as c:
        r = await c.get("/api/__planted_failure", headers={"X-Request-Id": "abc-123"})
    assert r.status_code == 500
    assert r.json()["error"] == "server_error"
    assert r.json()["request_id"] == "abc-123"
    assert r.headers["x-request-id"] == "abc-123"
