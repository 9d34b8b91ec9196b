"""create_app(settings): routes, middleware and lifespan on one screen."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from tortoise import Tortoise

from . import health, openapi  # operations: health, metrics, the API description
from .api import admin as admin_api
from .api import checklists, deadlines, devices, evidence, review, session, templates, units, users
from .api import dashboard as dashboard_api
from .api import documents as document_api
from .api import exports as export_api
from .api import registers as register_api
from .api import reminders as reminder_api
from .api import sync as sync_api
from .config import Settings
from .db import tortoise_config
from .durability import NotDurable, check_connection
from .errors import error_handlers
from .limits import BodyLimitMiddleware
from .observability import Counters, ObservabilityMiddleware
from .pages import admin as admin_pages
from .pages import admin_users as admin_user_pages
from .pages import checklists as checklist_pages
from .pages import dashboard as dashboard_pages
from .pages import deadlines as deadline_pages
from .pages import documents as document_pages
from .pages import exports as export_pages
from .pages import pwa
from .pages import registers as register_pages
from .pages import reminders as reminder_pages
from .pages import review as review_pages
from .pages import session as session_pages
from .pages import units as unit_pages
from .pages import users as user_pages
from .pages.render import render_error
from .reminders.scheduler import start_scheduler
from .security import SecurityMiddleware

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, *, init_db: bool = True) -> Starlette:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette):
        # Tests init Tortoise themselves (ASGITransport runs no lifespan); the server does it here.
        if init_db:
            # Requests run in other tasks than the lifespan: the context must be global.
            await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
            try:  # an answered push must survive a power cut: refuse a database that cannot promise it
                await check_connection(settings)
            except NotDurable:
                await Tortoise.close_connections()
                raise
        reminders = start_scheduler(settings) if init_db else None
        try:
            yield
        finally:
            if reminders is not None:
                await reminders.stop()
            if init_db:
                await Tortoise.close_connections()

    routes = [
        *session.routes,
        *units.routes,
        *templates.routes,
        *checklists.routes,
        *deadlines.routes,
        *devices.routes,
        *sync_api.routes,
        *evidence.routes,
        *users.routes,
        *review.routes,
        *reminder_api.routes,
        *register_api.routes,
        *export_api.routes,
        *pwa.routes,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        *session_pages.routes,
        *unit_pages.routes,
        *checklist_pages.routes,
        *user_pages.routes,
        *review_pages.routes,
        *reminder_pages.routes,
        *deadline_pages.routes,
        *dashboard_api.routes,
        *dashboard_pages.routes,
        # documents the province sends (issue 16)
        *document_api.routes,
        *document_pages.routes,
        # administration (issue 16)
        *admin_api.routes,
        *admin_pages.routes,
        *admin_user_pages.routes,
        *register_pages.routes,
        *export_pages.routes,
        # operations
        *health.routes,
        *openapi.routes,
    ]
    counters = Counters(settings.metrics_dir)
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(ObservabilityMiddleware, header=settings.request_id_header, counters=counters),
            Middleware(SecurityMiddleware, render_page=render_error),  # answers a crash with its headers too
            Middleware(BodyLimitMiddleware, render_page=render_error),  # before any handler reads a body
            Middleware(GZipMiddleware, minimum_size=500),
        ],
        # One place turns problems into answers: JSON under /api/, an error page elsewhere.
        exception_handlers=error_handlers(render_error),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.counters = counters
    return app
