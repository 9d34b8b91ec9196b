"""Pages: the unit tree with search and progress charts, and one unit with its checklists."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.periods import PERIOD_KINDS, period_label, recent_periods, today_vn

from .. import auth
from ..errors import ApiError, parse_int, problem
from ..models import Template, Unit
from ..services import checklists, progress, units
from . import user_or_login
from .render import render

# Derived statuses that count as done on the progress charts: the roadmap's (e-ISO announced or further).
DONE_STATUSES = progress.DONE_STATUSES


async def units_page(request: Request) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    q = request.query_params.get("q", "")[:100]
    found = await units.units_in_scope(user, q)
    by_parent: dict[int | None, list[Unit]] = {}
    ids = {u.id for u in found}
    roots = []
    for u in found:
        if u.parent_id in ids and not q:  # type: ignore[attr-defined]
            by_parent.setdefault(u.parent_id, []).append(u)  # type: ignore[attr-defined]
        else:
            roots.append(u)
    # The province's own root (level 0) is the tree's top, not one of the agencies the plan counts.
    agencies = [u for u in found if u.level > 0]
    # Statuses derived from approved checklists (issue 16), not the seeded `qms_status` column.
    derived = await progress.statuses_of(u.id for u in found)
    counts: dict[str, int] = {}
    for u in agencies:
        counts[derived[u.id].status] = counts.get(derived[u.id].status, 0) + 1
    groups = [] if q else _district_groups(found, by_parent, derived)
    return render(
        request,
        "units.html",
        {
            "user": user,
            "q": q,
            "roots": roots,
            "by_parent": by_parent,
            "count": len(agencies),
            "parent_names": await units.parents_of_same_names(found),
            "status_counts": counts,
            "derived": derived,
            "groups": groups,
        },
    )


def _district_groups(found: list[Unit], by_parent: dict, derived: dict) -> list[dict]:
    """Units that have children, each with the status counts of its subtree: what a chart draws."""
    groups = []
    for u in found:
        if not by_parent.get(u.id) or u.level == 0:
            continue
        counts: dict[str, int] = {}
        stack = [u]
        while stack:
            node = stack.pop()
            counts[derived[node.id].status] = counts.get(derived[node.id].status, 0) + 1
            stack.extend(by_parent.get(node.id, ()))
        total = sum(counts.values())
        groups.append(
            {"unit": u, "counts": counts, "total": total, "done": sum(counts.get(s, 0) for s in DONE_STATUSES)}
        )
    return groups


def page_unit_id(request: Request) -> int:
    """The unit id of the path; on a page a malformed id is simply a unit that is not there."""
    try:
        return parse_int(request.path_params["unit_id"], "unit_id")
    except ApiError:
        raise problem("unit_not_found") from None


async def unit_page(request: Request, error: str | None = None) -> Response:
    user, redirect = await user_or_login(request)
    if redirect:
        return redirect
    detail = await units.unit_detail(user, page_unit_id(request))
    today = today_vn()
    return render(
        request,
        "unit.html",
        {
            "user": user,
            "unit": detail.unit,
            "parent": detail.parent,
            "children": detail.children,
            "derived": await progress.statuses_of([detail.unit.id, *(c.id for c in detail.children)]),
            "checklists": await checklists.of_unit(detail.unit),
            "error": error,
            "can_create": user.role in auth.CAN_CREATE_CHECKLISTS,
            "published": await Template.filter(published=True).order_by("id"),
            # picked from a list, never typed: every kind's recent periods with their labels
            "period_choices": [(p, period_label(p)) for kind in PERIOD_KINDS for p in recent_periods(kind, today)],
        },
        status_code=422 if error else 200,
    )


routes = [
    Route("/units", units_page),
    Route("/units/{unit_id}", unit_page),
]
