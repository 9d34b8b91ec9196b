"""The status and timeliness rules of server/services/progress.py, pure: no database."""

from __future__ import annotations

from datetime import date

from server.services.progress import ChecklistFacts, derive_status, months_back, timeliness


def facts(cid, code, period="once", approved=date(2026, 3, 1), **answers):
    return ChecklistFacts(cid, code, period, approved, answers)


def test_nothing_approved_is_not_started():
    assert derive_status([]).status == "not_started"


def test_any_approved_checklist_is_building_since_its_approval():
    s = derive_status([facts("b", "monthly_report", "2026-02", date(2026, 3, 5)), facts("a", "rollout")])
    assert (s.status, s.since, s.checklist_id) == ("building", date(2026, 3, 1), "a")


def test_rollout_announced_with_a_date_is_announced_on_that_date():
    s = derive_status([facts("r", "rollout", s12_announced="yes", s12_announcement_date="2025-11-20")])
    assert (s.status, s.since, s.checklist_id, s.template_code, s.period) == (
        "announced",
        date(2025, 11, 20),
        "r",
        "rollout",
        "once",
    )
    assert s.done


def test_an_announcement_without_its_date_or_answered_no_does_not_count():
    assert derive_status([facts("r", "rollout", s12_announced="yes")]).status == "building"
    assert derive_status([facts("r", "rollout", s12_announced="no", s12_announcement_date="2025-11-20")]).status == (
        "building"
    )


def test_conversion_announced_is_converted_and_rollout_announced_ranks_above_it():
    conv = facts("c", "conversion", announced="yes", announcement_date="2021-06-30")
    assert derive_status([conv]).status == "converted"
    roll = facts("r", "rollout", s12_announced="yes", s12_announcement_date="2025-11-20")
    assert derive_status([conv, roll]).status == "announced"


def test_a_later_approved_self_assessment_or_annual_report_makes_it_applying():
    roll = facts("r", "rollout", s12_announced="yes", s12_announcement_date="2025-11-20")
    report = facts("y", "annual_report", "2025", date(2026, 6, 10))
    s = derive_status([roll, report])
    assert (s.status, s.since, s.checklist_id) == ("applying", date(2026, 6, 10), "y")
    # a report of a year before the announcement, or approved before it, does not
    old = facts("o", "self_assessment", "2024", date(2026, 1, 5))
    early = facts("e", "self_assessment", "2025", date(2025, 10, 1))
    assert derive_status([roll, old, early]).status == "announced"
    # applying needs the e-ISO announcement, not the 2015 conversion's
    conv = facts("c", "conversion", announced="yes", announcement_date="2021-06-30")
    assert derive_status([conv, report]).status == "converted"


def test_timeliness_of_one_month():
    due = date(2026, 11, 21)
    assert timeliness(date(2026, 11, 21), due, date(2026, 12, 3)) == "on_time"
    assert timeliness(date(2026, 11, 22), due, date(2026, 12, 3)) == "late"
    assert timeliness(None, due, date(2026, 11, 22)) == "missing"
    assert timeliness(None, due, date(2026, 11, 21)) == "not_yet_due"
    assert timeliness(None, None, date(2026, 12, 3)) == "no_deadline"
    assert timeliness(date(2026, 11, 2), None, date(2026, 12, 3)) == "handed_in"


def test_months_back_crosses_the_year():
    assert months_back(date(2026, 2, 10), 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]
