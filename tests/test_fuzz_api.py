"""Schemathesis fuzzes every operation of /api/openapi.json against a real `eiso serve`, logged in as the
seeded province admin (who reaches the most code), on the database EISO_TEST_DB names: no answer is a
5xx, and every refusal is the JSON problem shape of server/errors.py. Valid and invalid inputs both (positive and negative generation); a fixed number of examples per
operation keeps it to well under a minute per database.

The server is a fresh installation made by the `eiso` command (migrate, seed --demo) so nothing the
fuzzer changes (units renamed, accounts locked) reaches the rest of the suite. Logging out is left out:
it would end the session every other case rides on (tests/test_auth.py covers it).
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.ops_fixtures import eiso, eiso_env, fresh_database, login_cookie, serving

EXAMPLES = 8  # per operation and mode: ~38 operations x 2 modes -> about 600 requests


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    with fresh_database(tmp) as url:
        env = eiso_env(url, tmp / "evidence")
        eiso("seed", "--demo", env=env, cwd=tmp)
        with serving(env, tmp, tmp / "server.log") as base:
            yield base, login_cookie(base), tmp / "server.log"


@pytest.fixture(scope="module")
def api_schema(live):
    base, _, _ = live
    schema = schemathesis.openapi.from_url(base + "/api/openapi.json")
    return schema.exclude(method="DELETE", path="/api/session").exclude(
        method="DELETE", path_regex=r"^/api/users/\{user_id\}/sessions$"
    )


def refusals_are_problems(ctx, response, case) -> bool | None:
    """Every refusal under /api/ is JSON `{"error", "message", ...}`, whatever the input: never a text page."""
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"{response.status_code} answered with non-JSON: {response.text[:200]!r}") from None
        assert isinstance(body, dict) and body.get("error") and body.get("message"), f"not a problem: {body!r}"
    return None


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(operation, mode: GenerationMode, base: str, cookie: str) -> str | None:
    """Hypothesis drives one operation in one mode; the first 5xx (shrunk) comes back as text."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=False
    )
    def run(case):
        with requests.Session() as s:
            s.cookies.set("eiso_session", cookie)
            case.call_and_validate(base_url=base, session=s, checks=[not_a_server_error, refusals_are_problems])

    try:
        run()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a FailureGroup too: every failure is collected, then reported
        return f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}"
    return None


def test_no_operation_answers_5xx(api_schema, live):
    base, cookie, log = live
    ops = operations(api_schema)
    assert len(ops) >= 35, "the description lost operations"
    failures = [f for op in ops for mode in GenerationMode for f in [fuzz(op, mode, base, cookie)] if f]
    assert not failures, "\n\n".join(failures)[:20000] + "\n\nserver log tail:\n" + log.read_text()[-4000:]
