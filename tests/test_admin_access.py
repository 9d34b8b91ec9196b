"""Role × scope over every administration route (issue 16): only the admin passes; a reviewer or an
official is refused (403), a visitor must log in (401, or the login page), a cross-site form is refused,
and tree-wide changes (units, the import, templates) are the provincial admin's, not a district admin's."""

from __future__ import annotations

import pytest

from server.auth import hash_password
from server.models import Unit, User

from .conftest import DEMO_PASSWORD, unit_id

# (method, path, body kind): {user} is xa.iatoi's id, {unit} the id of Xã Ia Tơi. Bodies are refused
# by validation (422) when the role passes, so nothing changes whoever asks.
API = [
    ("POST", "/api/units", {"code": "bad code", "name": "", "kind": "x", "parent_id": 1}),
    ("POST", "/api/units/import/preview", b""),
    ("POST", "/api/units/import", b""),
    ("POST", "/api/users", {"username": "Bad Name", "role": "x", "unit_id": 1}),
    ("POST", "/api/users/{user}/password", {"password": "short"}),
    ("GET", "/api/users/{user}/devices", None),
    ("PATCH", "/api/users/{user}/assignment", {"role": "boss"}),
    ("GET", "/api/template-versions", None),
    ("POST", "/api/templates", b"not json"),
]
PAGES = [
    ("GET", "/admin", None),
    ("GET", "/admin/units", None),
    ("GET", "/admin/units/{unit}", None),
    ("GET", "/admin/templates", None),
    ("GET", "/users/new", None),
    ("GET", "/users/{user}", None),
    ("POST", "/admin/units/new", {"code": "bad code"}),
    ("POST", "/admin/units/import", {}),
    ("POST", "/admin/units/import/apply", {"data": "", "digest": ""}),
    ("POST", "/admin/units/{unit}/rename", {"name": " "}),
    ("POST", "/admin/units/{unit}/move", {"parent_id": "x"}),
    ("POST", "/admin/units/{unit}/merge", {"into_id": "x"}),
    ("POST", "/admin/templates", {}),
    ("POST", "/users/new", {"username": "Bad Name"}),
    ("POST", "/users/{user}/change", {"role": "boss"}),
    ("POST", "/users/{user}/password", {"password": "short"}),
]
PROVINCE_ONLY = {
    "/api/units",
    "/api/units/import/preview",
    "/api/units/import",
    "/api/template-versions",
    "/api/templates",
    "/admin/units",
    "/admin/units/new",
    "/admin/units/import",
    "/admin/units/import/apply",
    "/admin/templates",
}


async def _ids() -> dict[str, int]:
    return {"user": (await User.get(username="xa.iatoi")).id, "unit": await unit_id("KT-147")}


async def _send(client, method: str, path: str, body, page: bool):
    path = path.format(**await _ids())
    if body is None:
        return await client.request(method, path)
    if page:
        return await client.request(method, path, data=body)
    if isinstance(body, bytes):
        return await client.request(method, path, content=body)
    return await client.request(method, path, json=body)


@pytest.mark.parametrize(("method", "path", "body"), API + PAGES)
async def test_only_the_admin_passes(login, anon, method, path, body):
    page = not path.startswith("/api/")
    admin = await login("admin")
    r = await _send(admin, method, path, body, page)
    assert r.status_code not in (401, 403, 404, 500), (path, r.status_code, r.text[:300])
    for who in ("huyen.iahdrai", "xa.iatoi"):
        r = await _send(await login(who), method, path, body, page)
        assert r.status_code == 403, (who, path, r.status_code)
    r = await _send(anon, method, path, body, page)
    if page:
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    else:
        assert r.status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), [r for r in API + PAGES if r[0] != "GET"])
async def test_a_cross_site_request_is_refused(login, method, path, body):
    admin = await login("admin")
    admin.headers["Origin"] = "https://evil.example"
    r = await _send(admin, method, path, body, not path.startswith("/api/"))
    assert r.status_code == 403 and r.json()["error"] == "cross_site"


@pytest.fixture
async def district_admin(login, seeded):
    """An admin of the Ia H'Drai district only."""
    await User.create(
        username="admin.iahdrai",
        role="admin",
        unit=await Unit.get(code="KT-045"),
        password_hash=hash_password(DEMO_PASSWORD),
    )
    yield await login("admin.iahdrai")
    await User.filter(username="admin.iahdrai").delete()


@pytest.mark.parametrize(("method", "path", "body"), [r for r in API + PAGES if r[1] in PROVINCE_ONLY])
async def test_tree_and_templates_are_the_provincial_admins(district_admin, method, path, body):
    r = await _send(district_admin, method, path, body, not path.startswith("/api/"))
    assert r.status_code == 403, (path, r.status_code)


async def test_a_district_admin_manages_only_the_accounts_of_their_district(district_admin, seeded):
    inside = await User.get(username="xa.iatoi")
    outside = await User.get(username="xa.tumorong")
    assert (await district_admin.get(f"/api/users/{inside.id}/devices")).status_code == 200
    assert (await district_admin.get(f"/api/users/{outside.id}/devices")).status_code == 404
    r = await district_admin.post(f"/api/users/{outside.id}/password", json={})
    assert r.status_code == 404
    r = await district_admin.patch(f"/api/users/{inside.id}/assignment", json={"unit_id": await unit_id("KT-097")})
    assert r.status_code == 422 and r.json()["field"] == "unit_id"  # a unit outside the district
    r = await district_admin.post(
        "/api/users", json={"username": "xa.ngoai", "role": "official", "unit_id": await unit_id("KT-097")}
    )
    assert r.status_code == 422 and not await User.exists(username="xa.ngoai")
