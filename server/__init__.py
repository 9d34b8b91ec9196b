"""The e-ISO web app: routes, auth, templates, CLI. The sync engine lives in `sync/`."""
