"""One home for each word: a code the server can emit has its word in the catalogue, and the phone has
no copy of its own.

- Every checklist status, role, rejection reason and sync refusal the server can emit (found in the
  protocol's vocabulary and in the code that emits them) has its word in `for_client()`.
- The PWA's JavaScript holds no catalogue word: labels and messages reach it only as
  /app/catalogue.json.
- Every catalogue key the PWA looks up by name (`message("x")`, `errorText("x")`, `data.group`) exists.
- The served JSON is `for_client()`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from server import catalogue
from sync import vocabulary, workflow

ROOT = Path(__file__).resolve().parent.parent
PWA_JS = ROOT / "pwa" / "js"
CLIENT = catalogue.for_client()


def _sources(*folders: str) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))}


def _pwa_sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(PWA_JS.rglob("*.js")) if "vendor" not in p.parts}


def _words(value) -> list[str]:
    """Every string inside a catalogue value (nested dicts and lists)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [w for v in value.values() for w in _words(v)]
    if isinstance(value, (list, tuple)):
        return [w for v in value for w in _words(v)]
    return []


# ---- the server side: every code it emits has a word --------------------------------------------------


def emitted_statuses() -> set[str]:
    found = set(vocabulary.CHECKLIST_STATUSES) | set(workflow.EDITABLE) | set(workflow.LOCKED)
    for sources, target in workflow.TRANSITIONS.values():
        found |= set(sources) | {target}
    return found


def emitted_roles() -> set[str]:
    found = set(vocabulary.ROLES)
    for text in _sources("server", "sync").values():
        groups = re.findall(r"role\s+in\s+\(([^)]*)\)", text) + re.findall(r'"--role".*?choices=\[([^\]]*)\]', text)
        for group in groups:
            found |= set(re.findall(r'"(\w+)"', group))
        found |= set(re.findall(r'role\s*[!=]=\s*"(\w+)"', text))
    return found


def emitted_reasons() -> set[str]:
    """Reasons of rejected edits: the vocabulary, and what the code that rejects edits returns or sets."""
    found = set(vocabulary.REJECTION_REASONS)
    for text in _sources("server", "sync").values():
        if '"rejected"' not in text and "Decision(" not in text:
            continue  # only the modules that reject edits
        found |= set(re.findall(r'reason\s*=\s*"(\w+)"', text))
        found |= set(re.findall(r'^\s+return "([a-z]+_?[a-z_]*)"$', text, re.M))
    return found


def emitted_sync_errors() -> set[str]:
    found = set(vocabulary.SYNC_ERRORS)
    for text in _sources("sync", "server").values():
        found |= set(re.findall(r'SyncError\(\s*\d+,\s*"(\w+)"', text))
        if "SyncError" in text:
            found |= set(re.findall(r'\berror="(\w+)"', text))
    return found


def test_the_scan_finds_what_the_server_emits():
    # A guard on the scanners themselves: they must see the codes we know are emitted.
    assert {"draft", "submitted", "returned", "approved"} <= emitted_statuses()
    assert {"official", "reviewer", "admin", "viewer"} <= emitted_roles()
    assert {"checklist_locked", "out_of_scope", "invalid_value", "forbidden", "conflict_closed"} <= emitted_reasons()
    assert {"client_too_old", "unknown_device", "device_revoked", "sequence_gap"} <= emitted_sync_errors()


def test_every_checklist_status_has_its_label():
    assert emitted_statuses() <= set(CLIENT["checklist_statuses"])
    assert set(CLIENT["checklist_statuses"]) == set(vocabulary.CHECKLIST_STATUSES)


def test_every_role_has_its_label():
    assert emitted_roles() <= set(CLIENT["roles"])
    assert set(CLIENT["roles"]) == set(vocabulary.ROLES)


def test_every_rejection_reason_has_its_message():
    assert emitted_reasons() <= set(CLIENT["reasons"])
    assert all(CLIENT["reasons"].values())


def test_every_sync_refusal_has_its_message():
    assert emitted_sync_errors() <= set(CLIENT["errors"])


def test_every_problem_code_has_a_message_for_the_phone():
    # (A code whose every message needs values, like `throttled`, is always answered with its message.)
    assert {code for _s, code, m in catalogue.PROBLEMS.values() if "{" not in m} <= set(CLIENT["errors"])
    assert set(catalogue.PROBLEMS) | set(catalogue.PHONE_MESSAGES) == set(CLIENT["messages"])


# ---- the phone side: no copy, and every look-up exists -------------------------------------------------

STRING_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`((?:[^`\\]|\\.)*)`')


def test_the_pwa_has_no_copy_of_a_catalogue_word():
    words = {w for w in _words(CLIENT) if re.search(r"[^\x00-\x7f]", w)}  # the Vietnamese ones
    # A whole sentence may be hidden inside a longer literal; short labels ("Có") only as a literal of their own.
    long_words = {w for w in words if len(w) >= 12}
    copies = []
    for path, text in _pwa_sources().items():
        literals = {next(g for g in m.groups() if g is not None) for m in STRING_LITERAL.finditer(text)}
        for w in words:
            if w in literals or (w in long_words and w in text):
                copies.append(f"{path.relative_to(ROOT)}: {w!r}")
    assert not copies, "catalogue words copied into the PWA:\n" + "\n".join(copies)


def test_no_label_table_or_protocol_number_of_its_own():
    for path, text in _pwa_sources().items():
        assert not re.search(r"\b(STATUS|CHOICES|REASONS|ROLES|PROTOCOL)\s*=", text), path
        assert "Asia/Ho_Chi_Minh" not in text, path  # the time zone comes with the catalogue


def test_every_key_the_pwa_looks_up_exists():
    looked_up = {"message": set(), "errorText": set(), "data": set()}
    for text in _pwa_sources().values():
        for fn in ("message", "errorText"):
            looked_up[fn] |= set(re.findall(rf'\b{fn}\("(\w+)"', text))
    catalogue_js = (PWA_JS / "catalogue.js").read_text(encoding="utf-8")
    looked_up["data"] = set(re.findall(r"\bdata\.(\w+)", catalogue_js))
    assert looked_up["message"] and looked_up["errorText"] and looked_up["data"]  # the scan sees them
    assert looked_up["message"] <= set(CLIENT["messages"]), looked_up["message"] - set(CLIENT["messages"])
    assert looked_up["errorText"] <= set(CLIENT["errors"]), looked_up["errorText"] - set(CLIENT["errors"])
    assert looked_up["data"] <= set(CLIENT), looked_up["data"] - set(CLIENT)


def test_the_pwa_reads_the_catalogue_only_through_catalogue_js():
    for path, text in _pwa_sources().items():
        if path.name != "catalogue.js":
            assert "catalogue.json" not in text, path


async def test_the_served_catalogue_is_for_client(anon):
    r = await anon.get("/app/catalogue.json")
    assert r.status_code == 200
    assert json.loads(r.text) == CLIENT
