"""Problems by name: status, wire code and message from the catalogue, values in the message or the body,
and the same words whether the answer is JSON or a page."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from server.catalogue import PROBLEMS
from server.errors import ApiError, as_problem, parse_int, problem, validation_error
from sync.protocol import SyncError


def test_a_problem_takes_status_code_and_message_from_the_catalogue():
    err = problem("unit_not_found")
    assert isinstance(err, ApiError)
    assert (err.status, err.code, err.message, err.extra) == (*PROBLEMS["unit_not_found"], {})
    assert err.name == "unit_not_found"


def test_values_the_message_names_fill_it_in_and_the_others_go_into_the_body():
    err = problem("period_invalid", field="period", period="2026-13", example="2026-11")
    assert err.message == "Kỳ báo cáo '2026-13' không hợp lệ cho mẫu này (ví dụ: 2026-11)."
    assert err.extra == {"field": "period"}
    err = problem("checklist_exists", checklist_id="abc")
    assert (err.status, err.code, err.extra) == (409, "exists", {"checklist_id": "abc"})


def test_field_is_always_in_the_body_even_when_the_message_names_it():
    err = problem("field_not_integer", field="unit_id")
    assert err.message == "Đơn vị phải là số nguyên."  # the field's label, not its wire name
    assert problem("field_not_integer", field="limit").message == "Trường 'limit' phải là số nguyên."
    assert err.extra == {"field": "unit_id"}


def test_the_login_throttle_keeps_its_wire_code():
    err = problem("login_throttled", minutes=15, retry_after=900)
    assert (err.status, err.code) == (429, "too_many_attempts")
    assert "15 phút" in err.message and err.extra == {"retry_after": 900}


def test_an_unknown_name_or_a_missing_value_is_a_programming_error():
    with pytest.raises(KeyError):
        problem("no_such_problem")
    with pytest.raises(KeyError):
        problem("period_invalid", field="period")  # the message needs {period} and {example}


def test_one_integer_parser_for_path_and_query_values():
    assert parse_int("42", "unit_id") == 42
    for raw in ("abc", None, "1.5", ""):
        with pytest.raises(ApiError) as caught:
            parse_int(raw, "unit_id")
        assert caught.value.name == "field_not_integer" and caught.value.extra == {"field": "unit_id"}
    with pytest.raises(ApiError) as caught:
        parse_int("-1", "offset", minimum=0)
    assert caught.value.name == "field_negative" and caught.value.status == 422


def test_a_pydantic_refusal_names_its_field():
    class Body(BaseModel):
        unit_id: int

    with pytest.raises(ValidationError) as caught:
        Body.model_validate({"unit_id": "một"})
    err = validation_error(caught.value)
    assert (err.status, err.code, err.extra) == (422, "invalid", {"field": "unit_id"})
    assert err.message == "Đơn vị phải là số nguyên."  # a sentence with the field's label, not pydantic's words


def test_a_sync_refusal_speaks_the_catalogue_and_keeps_its_extra_values():
    err = as_problem(SyncError(426, "client_too_old", "engine words", min_protocol=2))
    assert (err.status, err.code, err.message) == PROBLEMS["client_too_old"]
    assert err.extra == {"min_protocol": 2}


async def test_json_and_pages_show_the_same_catalogue_message(anon, seeded):
    r = await anon.get("/api/khong-co")
    message = PROBLEMS["not_found"][2]
    assert r.status_code == 404 and r.json() == {"error": "not_found", "message": message}
    page = await anon.get("/khong-co")
    assert page.status_code == 404 and message in page.text and "text/html" in page.headers["content-type"]


async def test_a_cross_site_post_is_refused_with_the_catalogue_words(anon, seeded):
    r = await anon.post("/api/session", json={}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert r.json() == {"error": "cross_site", "message": PROBLEMS["cross_site"][2]}
