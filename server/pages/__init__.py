"""Server-rendered pages (Jinja2) for looking at the data on any phone; the offline app is in pwa/.

One module per thing served (session, units, checklists), the rendering they share in `render.py`.
Pages call `server.services`, never `server.api`; a problem a service raises reaches the visitor as an
error page with the catalogue's message (`server/errors.py` routes it).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse

from .. import auth
from ..models import User


async def user_or_login(request: Request) -> tuple[User | None, RedirectResponse | None]:
    """The visitor's account, or a redirect to the login page that comes back here."""
    user = await auth.session_user(request)
    if user is None:
        return None, RedirectResponse("/login?next=" + request.url.path, status_code=303)
    return user, None
