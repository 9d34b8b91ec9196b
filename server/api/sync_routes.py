"""POST /api/sync/push and GET /api/sync/pull: thin HTTP wrappers around sync.engine."""
routes: list = []
