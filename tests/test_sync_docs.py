"""docs/sync-protocol.md says the engine's words as `sync/vocabulary.py` has them: every rejection reason
with its message, every whole-request refusal."""

from __future__ import annotations

from pathlib import Path

from sync.vocabulary import REJECTION_REASONS, SYNC_ERRORS

DOC = (Path(__file__).resolve().parent.parent / "docs" / "sync-protocol.md").read_text(encoding="utf-8")


def test_every_rejection_reason_is_documented_with_its_message():
    rows = {
        line.split("|")[1].strip().strip("`"): line.split("|")[3].strip()
        for line in DOC.splitlines()
        if line.startswith("| `") and line.count("|") == 4
    }
    assert {r: rows.get(r) for r in REJECTION_REASONS} == REJECTION_REASONS


def test_every_refusal_is_documented():
    for code, (status, _message) in SYNC_ERRORS.items():
        assert f"| {status} | `{code}` |" in DOC
