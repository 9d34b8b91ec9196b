"""One catalogue of the words people read: error codes and their Vietnamese messages, status, role and
unit-kind labels, answer choices, rejection reasons, periods and the time zone.

Raise a problem by name (`errors.problem("unit_not_found")`) anywhere on the server; `server/errors.py`
turns it into HTTP in one place. The phone gets this same catalogue from `/app/catalogue.json`, cached
with the app shell, so a word is written once for both. Protocol words (roles, statuses, rejection
reasons, sync refusals) are defined in `sync/vocabulary.py` and periods in `sync/periods.py`, because the
engine, which may not import the server, needs them too; they are re-exported here.
"""

from __future__ import annotations

from sync.periods import (
    DUE_SOON_DAYS,
    PERIOD_EXAMPLES,
    PERIOD_KINDS,
    PERIOD_LABELS,
    RECENT_PERIODS,
    TIMEZONE,
    VN,
    current_period,
    period_label,
    today_vn,
)
from sync.protocol import PROTOCOL_VERSION
from sync.vocabulary import CHECKLIST_STATUSES, DECIDERS, EDITORS, REJECTION_REASONS, ROLES, SYNC_ERRORS

__all__ = [
    "CHECKLIST_STATUSES",
    "CHECKLIST_STATUS_LABELS",
    "CHOICE_LABELS",
    "DEADLINE_RULE_ACTIONS_DONE",
    "DUE_RULE_LABELS",
    "DUE_STATUS_LABELS",
    "PERIOD_KIND_LABELS",
    "PERIOD_OFFSET_LABELS",
    "FIELD_LABELS",
    "PERIOD_EXAMPLES",
    "PERIOD_KINDS",
    "PERIOD_LABELS",
    "RECENT_PERIODS",
    "PHONE_MESSAGES",
    "PROBLEMS",
    "QMS_STATUS_LABELS",
    "REJECTION_REASONS",
    "REOPENED_LABEL",
    "REVIEW_EVENT_LABELS",
    "ROLES",
    "ROLE_LABELS",
    "SESSION_END_LABELS",
    "SYNC_ERRORS",
    "TIMEZONE",
    "UNIT_KIND_LABELS",
    "USER_ACTIONS_DONE",
    "VALIDATION_MESSAGES",
    "VN",
    "current_period",
    "for_client",
    "period_label",
    "today_vn",
]

CHECKLIST_STATUS_LABELS = {
    "draft": "Đang điền",
    "submitted": "Đã nộp",
    "returned": "Bị trả lại",
    "approved": "Đã duyệt",
}
ROLE_LABELS = {
    "official": "Cán bộ đơn vị",
    "reviewer": "Người duyệt",
    "admin": "Quản trị tỉnh",
    "viewer": "Người xem",
}
# A unit's quality management system, from nothing to e-ISO.
QMS_STATUS_LABELS = {
    # "none" is what the annex did not say: the province's agencies were already applying the system, so
    # no data is not "not applying" (issue 13).
    "none": "Chưa có thông tin",
    "iso2008": "Đang áp dụng ISO 9001:2008",
    "converting": "Đang chuyển đổi sang ISO 9001:2015",
    "iso2015": "Đã áp dụng ISO 9001:2015",
    "announced": "Đã công bố",
    "eiso": "Đã áp dụng ISO điện tử",
}
UNIT_KIND_LABELS = {
    "province": "Tỉnh",
    "department": "Sở, ban, ngành",
    "agency": "Chi cục hoặc tương đương",
    "district": "Cấp huyện",
    "commune": "Xã",
    "ward": "Phường",
    "town": "Thị trấn",
}
# A draft whose last status action was a reopening reads "Mở lại" (the checklist row's `reopened`).
REOPENED_LABEL = "Mở lại"
# The events of a checklist's timeline (GET /api/checklists/{id}/timeline, the desk, the phone).
REVIEW_EVENT_LABELS = {
    "submit": "Đã nộp phiếu",
    "return": "Đã trả lại phiếu",
    "approve": "Đã duyệt phiếu",
    "reopen": "Đã mở lại phiếu",
    "comment": "Đã nhận xét",
}
CHOICE_LABELS = {"yes": "Có", "no": "Không", "partial": "Một phần", "na": "Không áp dụng"}

# Problems the server answers with: name -> (HTTP status, wire code, message). The wire code is what
# clients branch on; several names may share one (every "not found" is `not_found`). Messages may name
# `{field}`, `{detail}` or other values passed to `errors.problem(name, **values)`, and `{label}` /
# `{Label}`: the field's label from FIELD_LABELS ("trường 'x'" for a field it does not list).
PROBLEMS: dict[str, tuple[int, str, str]] = {
    # sessions and rights
    "not_authenticated": (401, "not_authenticated", "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại."),
    "bad_credentials": (401, "bad_credentials", "Tên đăng nhập hoặc mật khẩu không đúng."),
    "login_missing": (422, "invalid", "Vui lòng nhập tên đăng nhập và mật khẩu."),
    "forbidden": (403, "forbidden", "Tài khoản của bạn không có quyền thực hiện thao tác này."),
    "cross_site": (403, "cross_site", "Yêu cầu từ trang khác bị từ chối."),
    # what the login answers on the wire when an account or address has failed too often
    "login_throttled": (429, "too_many_attempts", "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút."),
    # not found (the same answer for "does not exist" and "not yours")
    "not_found": (404, "not_found", "Không tìm thấy trang hoặc dữ liệu này."),
    "unit_not_found": (404, "not_found", "Không tìm thấy đơn vị."),
    "checklist_not_found": (404, "not_found", "Không tìm thấy phiếu."),
    "evidence_not_found": (404, "not_found", "Không tìm thấy tệp minh chứng."),
    "evidence_incomplete": (404, "not_found", "Tệp minh chứng chưa được tải lên đủ."),
    "template_not_found": (404, "not_found", "Không tìm thấy mẫu phiếu."),
    "device_not_found": (404, "not_found", "Không tìm thấy thiết bị."),
    "method_not_allowed": (405, "method_not_allowed", "Phương thức không được hỗ trợ."),
    # the request body and its fields
    "body_not_json": (422, "invalid", "Dữ liệu gửi lên không phải JSON hợp lệ."),
    "body_not_object": (422, "invalid", "Dữ liệu gửi lên phải là một đối tượng JSON."),
    "body_bad_gzip": (422, "invalid", "Dữ liệu nén gzip không hợp lệ."),
    "body_too_large": (413, "too_large", "Dữ liệu gửi lên quá lớn."),
    "field_invalid": (422, "invalid", "Trường '{field}' không hợp lệ: {detail}"),
    "field_not_integer": (422, "invalid", "{Label} phải là số nguyên."),
    "field_negative": (422, "invalid", "{Label} không được âm."),
    "field_missing": (422, "invalid", "Chưa có {label}."),
    # checklists
    "template_unknown": (422, "invalid", "Mẫu phiếu không tồn tại."),
    "period_invalid": (422, "invalid", "Kỳ báo cáo '{period}' không hợp lệ cho mẫu này (ví dụ: {example})."),
    "period_missing": (422, "invalid", "Vui lòng chọn mẫu phiếu và kỳ báo cáo."),
    "checklist_exists": (409, "exists", "Đơn vị đã có phiếu này cho kỳ này."),
    "audit_limit_invalid": (422, "invalid", "Trường '{field}' phải là số từ 1 đến {maximum}."),
    # units
    "unit_name_empty": (422, "invalid", "Tên đơn vị không được để trống."),
    "unit_target_unknown": (422, "invalid", "Đơn vị đích không tồn tại."),
    "unit_move_into_self": (422, "invalid", "Không thể chuyển đơn vị vào chính nó hoặc đơn vị cấp dưới của nó."),
    "unit_merge_into_self": (422, "invalid", "Không thể sáp nhập đơn vị vào chính nó hoặc đơn vị cấp dưới của nó."),
    "unit_already_merged": (409, "already_merged", "Đơn vị này đã được sáp nhập trước đó."),
    # evidence
    "evidence_bad_hash": (422, "invalid", "Mã băm SHA-256 không hợp lệ."),
    "evidence_bad_type": (422, "invalid", "Loại tệp không được hỗ trợ."),
    "evidence_bad_size": (422, "invalid", "Tệp rỗng hoặc quá lớn (tối đa {max_mb} MB)."),
    "evidence_past_end": (422, "invalid", "Dữ liệu vượt quá kích thước tệp."),
    "evidence_chunk_too_large": (413, "too_large", "Phần tệp gửi lên quá lớn."),
    "evidence_offset_mismatch": (409, "offset_mismatch", "Thiếu phần trước của tệp; gửi tiếp từ vị trí đã nhận."),
    "evidence_hash_mismatch": (422, "hash_mismatch", "Tệp nhận được không khớp mã băm; vui lòng gửi lại."),
    # a body refused by its model: `detail` is a whole sentence from VALIDATION_MESSAGES
    "field_refused": (422, "invalid", "{detail}"),
    # sync refusals of a whole request, defined with the protocol
    **{code: (status, code, message) for code, (status, message) in SYNC_ERRORS.items()},
    # bounds of every input (server/limits.py, sync/protocol.py; docs/sync-protocol.md, Limits)
    "body_too_deep": (422, "invalid", "Dữ liệu JSON lồng nhau quá nhiều tầng."),
    "body_bad_text": (422, "invalid", "Trường '{field}' chứa ký tự không hợp lệ (ký tự NUL hoặc mã Unicode lẻ)."),
    "body_bad_number": (422, "invalid", "Trường '{field}' chứa số quá lớn hoặc không hợp lệ."),
    "body_too_many_values": (422, "invalid", "Dữ liệu gửi lên có quá nhiều giá trị."),
    "request_bad_text": (422, "invalid", "Địa chỉ yêu cầu chứa ký tự không hợp lệ."),
    "field_out_of_range": (422, "invalid", "Trường '{field}' phải nằm trong khoảng từ {minimum} đến {maximum}."),
    # accounts, sessions and devices: a lost phone locked out
    "account_disabled": (
        403,
        "account_disabled",
        "Tài khoản này đã bị khoá. Vui lòng liên hệ quản trị viên của tỉnh để mở lại.",
    ),
    "user_not_found": (404, "not_found", "Không tìm thấy tài khoản."),
    "user_self_deactivate": (422, "invalid", "Không thể tự khoá tài khoản của chính mình."),
    "idempotency_key_invalid": (
        422,
        "invalid",
        "Khoá chống gửi trùng (Idempotency-Key) phải dài 1–64 ký tự, chỉ gồm chữ, số, '-', '_', '.' hoặc ':'.",
    ),
    # the review desk and its API (issue 14)
    "review_status_invalid": (
        422,
        "invalid",
        "Trạng thái lọc không hợp lệ: chọn đang điền, đã nộp, bị trả lại, đã duyệt hoặc tất cả.",
    ),
    "review_text_missing": (422, "invalid", "Vui lòng nhập nội dung nhận xét."),
    "review_reason_missing": (422, "invalid", "Vui lòng ghi lý do trả lại hoặc mở lại phiếu."),
    "review_action_invalid": (422, "invalid", "Thao tác duyệt không hợp lệ."),
    # reminders: push subscriptions, the inbox, channel choices
    "push_endpoint_invalid": (422, "invalid", "Địa chỉ nhận thông báo đẩy (endpoint) không hợp lệ: phải là https://."),
    "push_keys_invalid": (422, "invalid", "Khoá của đăng ký nhận thông báo đẩy không hợp lệ."),
    "push_not_configured": (404, "not_found", "Máy chủ chưa bật thông báo đẩy."),
    "inbox_message_not_found": (404, "not_found", "Không tìm thấy thông báo."),
    "email_address_invalid": (422, "invalid", "Địa chỉ email không hợp lệ."),
    "reminder_before_days_invalid": (
        422,
        "invalid",
        "Số ngày nhắc trước hạn phải là các số từ 0 đến 60, cách nhau bởi dấu phẩy, ví dụ: 7, 3, 1.",
    ),
    "reminder_after_days_invalid": (422, "invalid", "Số ngày nhắc sau hạn phải là một số từ 1 đến 60."),
    "reminder_quiet_hours_invalid": (422, "invalid", "Giờ không gửi phải có dạng HH:MM, ví dụ 21:00."),
    # deadline rules (the province's calendar: /deadlines, /api/deadline-rules)
    "deadline_rule_not_found": (404, "not_found", "Không tìm thấy quy định về hạn nộp."),
    "deadline_rule_code_taken": (409, "exists", "Mã quy định '{code}' đã được dùng cho một quy định khác."),
    "deadline_rule_code_invalid": (
        422,
        "invalid",
        "Mã quy định chỉ gồm chữ in hoa không dấu, số, '-' hoặc '_' (1–64 ký tự), ví dụ: KT-BAO-CAO-NAM.",
    ),
    "deadline_rule_text_missing": (422, "invalid", "Chưa nhập {label}."),
    "deadline_rule_text_too_long": (422, "invalid", "{Label} quá dài (tối đa {maximum} ký tự)."),
    "deadline_rule_date_invalid": (422, "invalid", "{Label} không phải một ngày có thật."),
    "deadline_rule_recurrence_invalid": (
        422,
        "invalid",
        "Cách lặp lại không hợp lệ: dùng 'monthly:21' (ngày 21 hằng tháng) hoặc 'yearly:06-29' (ngày 29/6 hằng năm).",
    ),
    "deadline_rule_recurrence_kind": (
        422,
        "invalid",
        "Hạn hằng tháng dành cho báo cáo tháng, hạn hằng năm cho báo cáo năm; báo cáo một lần cần một ngày cụ thể.",
    ),
    "deadline_rule_two_dates": (422, "invalid", "Chỉ chọn một trong hai: hạn lặp lại hoặc một ngày hạn cụ thể."),
    "deadline_rule_period_kind": (
        422,
        "invalid",
        "Kỳ báo cáo của quy định ({kind}) khác với kỳ của mẫu phiếu ({template_kind}).",
    ),
    # documents the province sends (issue 16: /documents, /api/documents/...)
    "document_month_invalid": (422, "invalid", "Tháng phải có dạng YYYY-MM, ví dụ 2026-11."),
    "document_year_invalid": (422, "invalid", "Năm phải là một số từ 2000 đến 2100, ví dụ 2026."),
    # administration (issue 16 item 6): units, the import of a new list of units, accounts, templates
    "admin_province_only": (403, "forbidden", "Chỉ quản trị viên cấp tỉnh mới thực hiện được thao tác này."),
    "unit_code_invalid": (
        422,
        "invalid",
        "Mã đơn vị chỉ gồm chữ in hoa không dấu, số, '-', '_' hoặc '.' (1–32 ký tự), ví dụ: KT-150.",
    ),
    "unit_code_taken": (409, "exists", "Mã đơn vị '{code}' đã được dùng cho đơn vị khác."),
    "unit_kind_invalid": (
        422,
        "invalid",
        "Loại đơn vị không hợp lệ: chọn tỉnh, sở/ngành, chi cục, huyện, xã, phường hoặc thị trấn.",
    ),
    "unit_retired": (422, "invalid", "Đơn vị này đã ngừng hoạt động (đã sáp nhập hoặc giải thể)."),
    "unit_has_active_children": (
        422,
        "invalid",
        "Đơn vị còn đơn vị cấp dưới đang hoạt động; hãy chuyển hoặc sáp nhập chúng trước.",
    ),
    "unit_import_unreadable": (422, "invalid", "Không đọc được tệp: {detail}"),
    "unit_import_invalid": (422, "invalid", "Tệp danh sách đơn vị có {count} lỗi. Dòng {row}: {first}"),
    "unit_import_stale": (
        409,
        "stale",
        "Danh sách đơn vị đã thay đổi từ lúc xem trước; vui lòng tải tệp lên và xem trước lại.",
    ),
    "username_invalid": (
        422,
        "invalid",
        "Tên đăng nhập gồm 3–64 ký tự: chữ thường không dấu, số, '.', '_' hoặc '-', ví dụ: xa.iatoi.",
    ),
    "username_taken": (409, "exists", "Tên đăng nhập '{username}' đã có người dùng."),
    "role_invalid": (
        422,
        "invalid",
        "Vai trò không hợp lệ: chọn cán bộ đơn vị, người duyệt, quản trị tỉnh hoặc người xem.",
    ),
    "user_self_role": (422, "invalid", "Không thể tự đổi vai trò hoặc đơn vị của chính mình."),
    "password_too_short": (422, "invalid", "Mật khẩu phải có ít nhất {minimum} ký tự."),
    "template_file_invalid": (422, "invalid", "Tệp mẫu phiếu có {count} lỗi. {first}"),
    "template_version_old": (
        409,
        "exists",
        "Mẫu '{code}' đã có phiên bản {latest}; phiên bản mới phải lớn hơn (ví dụ: {next}).",
    ),
    # registers and exports (issue 16)
    "procedure_not_found": (404, "not_found", "Không tìm thấy thủ tục hành chính này trong sổ."),
    "procedure_name_missing": (422, "invalid", "Vui lòng nhập tên thủ tục hành chính."),
    "procedure_date_invalid": (422, "invalid", "Ngày đưa vào hệ thống không hợp lệ (nhập theo dạng dd/mm/yyyy)."),
    "procedure_exists": (409, "exists", "Đơn vị đã có thủ tục “{code}” trong sổ."),
    "export_not_found": (
        404,
        "not_found",
        "Không tìm thấy tệp xuất dữ liệu (tệp chỉ được giữ trong một thời gian ngắn).",
    ),
    "export_not_ready": (409, "not_ready", "Tệp xuất dữ liệu chưa làm xong."),
    "export_kind_unknown": (422, "invalid", "Không có loại dữ liệu xuất “{kind}”."),
    "export_format_unknown": (422, "invalid", "Chỉ xuất được dạng CSV hoặc XLSX."),
    "export_busy": (429, "busy", "Bạn đang có một tệp xuất dữ liệu chưa làm xong. Vui lòng đợi tệp đó xong."),
    # hardening (issue 17): evidence quotas and store, content types, server faults
    "evidence_quota_pending": (
        429,
        "quota_exceeded",
        "Đang có quá nhiều tệp chưa tải lên xong ({what}). Vui lòng đợi các tệp đang gửi hoàn tất rồi thử lại.",
    ),
    "evidence_quota_stored": (
        413,
        "quota_exceeded",
        "Đã vượt hạn mức lưu trữ minh chứng ({what}). Vui lòng liên hệ quản trị viên.",
    ),
    "evidence_store_unavailable": (
        503,
        "store_unavailable",
        "Kho lưu tệp minh chứng tạm thời không ghi được. Tệp vẫn được giữ trên máy; vui lòng thử lại sau.",
    ),
    "unsupported_media_type": (415, "unsupported_media_type", "Dữ liệu gửi lên phải có kiểu application/json."),
    # operations (server/health.py): /metrics is for the monitoring system, not for people
    "metrics_forbidden": (403, "forbidden", "Chỉ hệ thống giám sát được đọc số liệu vận hành."),
    # a value no column can hold (an id longer than any id): refused before it reaches SQL as a 500
    "value_refused": (422, "invalid", "Giá trị gửi lên quá dài hoặc không hợp lệ."),
    # a failure nobody foresaw: still JSON under /api/, with the id that finds it in the log
    "server_error": (
        500,
        "server_error",
        "Máy chủ gặp lỗi. Vui lòng thử lại; nếu vẫn lỗi, báo quản trị kèm mã yêu cầu.",
    ),
    # faults: the database is restarting, unreachable or busy; nothing was saved, the client sends again
    "database_unavailable": (
        503,
        "database_unavailable",
        "Máy chủ tạm thời không ghi được dữ liệu (cơ sở dữ liệu đang bận hoặc khởi động lại). "
        "Chưa có gì được lưu; vui lòng thử lại sau {seconds} giây.",
    ),
}

# Why a session ended (Session.ended_reason), as the admin's /users page says it.
SESSION_END_LABELS = {
    "logout": "Đăng xuất",
    "device_revoked": "Thiết bị bị thu hồi",
    "admin": "Quản trị viên kết thúc phiên",
    "deactivated": "Tài khoản bị khoá",
    "password_reset": "Mật khẩu được đặt lại",
}
# What the /users page confirms after an action (`?done=` names one of these).
USER_ACTIONS_DONE = {
    "sessions_ended": "Đã kết thúc mọi phiên đăng nhập của tài khoản {username}.",
    "deactivated": "Đã khoá tài khoản {username}; mọi phiên đăng nhập của tài khoản đã kết thúc.",
    "reactivated": "Đã mở khoá tài khoản {username}.",
    "device_revoked": "Đã thu hồi thiết bị của tài khoản {username} và kết thúc phiên đăng nhập của thiết bị đó.",
    # administration (issue 16)
    "created": "Đã tạo tài khoản {username}.",
    "changed": "Đã lưu thay đổi của tài khoản {username}.",
    "password_reset": "Đã đặt lại mật khẩu của tài khoản {username}; mọi phiên đăng nhập của tài khoản đã kết thúc.",
}
# What the administration pages say after an action on units or templates (issue 16).
ADMIN_ACTIONS_DONE = {
    "unit_created": "Đã tạo đơn vị {name}.",
    "unit_renamed": "Đã đổi tên đơn vị thành {name}.",
    "unit_moved": "Đã chuyển đơn vị {name} sang đơn vị cấp trên mới.",
    "unit_merged": "Đã sáp nhập đơn vị {name}; lịch sử và phiếu của đơn vị vẫn được giữ.",
    "import_applied": "Đã áp dụng danh sách đơn vị mới.",
    "template_published": "Đã ban hành mẫu phiếu {name}.",
}
# A unit's history rows (UnitHistory.change), as the administration page lists them.
UNIT_HISTORY_LABELS = {
    "create": "Tạo đơn vị",
    "rename": "Đổi tên",
    "move": "Chuyển đơn vị cấp trên",
    "merge": "Sáp nhập",
    "status": "Cập nhật tình trạng ISO",
    "kind": "Đổi loại đơn vị",
    "retire": "Ngừng hoạt động",
}
# Where a unit stands with one deadline (server/services/deadlines.py, DUE_STATUSES); {n} is the number of
# days left or past. "today" is a due item on its last day.
DUE_STATUS_LABELS = {
    "upcoming": "Còn {n} ngày",
    "due": "Còn {n} ngày",
    "today": "Hôm nay là hạn cuối",
    "overdue": "Quá hạn {n} ngày",
    "done": "Đã nộp",
}
# A rule's due date as people read it (the last day allowed), and the period it asks for.
DUE_RULE_LABELS = {
    "monthly": "Ngày {day} hằng tháng",
    "yearly": "Ngày {day}/{month} hằng năm",
    "once": "Ngày {date}",
    "none": "Văn bản không ấn định ngày; tỉnh chưa đặt hạn",
}
PERIOD_KIND_LABELS = {"month": "Báo cáo tháng", "year": "Báo cáo năm", "once": "Một lần"}
PERIOD_OFFSET_LABELS = {
    0: "Kỳ chứa ngày hạn (báo cáo tháng 12 nộp trong tháng 12)",
    -1: "Kỳ trước ngày hạn (báo cáo năm 2026 nộp trước 30/6/2027)",
}
# What the /deadlines page confirms after an action (`?done=` names one of these).
DEADLINE_RULE_ACTIONS_DONE = {
    "created": "Đã thêm quy định {code}. Điện thoại nhận được ở lần đồng bộ sau.",
    "changed": "Đã lưu quy định {code}. Điện thoại nhận được ở lần đồng bộ sau.",
}

# What the phone says when no answer of the server's arrives to say it: name -> message (`{status}` is
# the HTTP status when there is one).
PHONE_MESSAGES = {
    "network_down": "Không kết nối được máy chủ.",
    "server_error": "Máy chủ đang gặp lỗi ({status}).",
    # The sync state, read alike by the top badge, the home screen and the outbox (pwa/js/syncstate.js).
    "chip_offline": "Ngoại tuyến · {waiting} chờ gửi",
    "chip_offline_empty": "Ngoại tuyến",
    "chip_running": "Đang đồng bộ…",
    "chip_failed": "Gửi lỗi · {waiting} chờ gửi",
    "chip_failed_empty": "Đồng bộ lỗi",
    "chip_waiting": "{waiting} chờ gửi",
    "chip_synced": "Đã đồng bộ",
    "chip_auth": "Cần đăng nhập lại",
    "chip_busy": "Máy chủ bận · sắp thử lại",
    "chip_busy_at": "Máy chủ bận đến {time}",
    "chip_label": "{state}. Mở hàng đợi gửi.",
    "waiting_edits": "{count} thay đổi đang chờ gửi.",
    "waiting_none": "Không có thay đổi nào chờ gửi.",
    "waiting_files": "{count} tệp minh chứng chờ tải lên.",
    "waiting_files_none": "Không có tệp chờ tải lên.",
    "last_sync": "Đồng bộ thành công lần cuối lúc {when}.",
    "never_synced": "Chưa đồng bộ lần nào.",
    "state_online": "Đang có mạng.",
    "state_offline": "Máy đang không có mạng: các thay đổi được giữ trên máy và tự gửi khi có mạng.",
    "state_auth": "Phiên đăng nhập đã hết hạn: đăng nhập lại để gửi các thay đổi.",
    # Why the last send failed: what really happened, as far as the phone can know it.
    "failed_unconfirmed": "Đã gửi {count} thay đổi nhưng chưa nhận được xác nhận của máy chủ. Ứng dụng sẽ gửi lại; máy chủ không ghi một thay đổi hai lần.",
    "failed_interrupted": "Kết nối với máy chủ bị ngắt giữa chừng. Các thay đổi vẫn nằm an toàn trên máy.",
    "failed_unreachable": "Không kết nối được máy chủ. Các thay đổi vẫn nằm an toàn trên máy.",
    "failed_offline": "Máy đang không có mạng. Các thay đổi vẫn nằm an toàn trên máy.",
    "failed_server": "Máy chủ đang gặp lỗi ({status}) nên chưa nhận được thay đổi. Các thay đổi vẫn nằm an toàn trên máy.",
    "failed_refused": "Máy chủ từ chối yêu cầu: {detail}",
    # The server asked to wait (503/429 with Retry-After): the phone sends nothing on its own before then.
    "server_busy": "Máy chủ đang bận, chưa gửi lại lúc này.",
    "failed_busy": "Máy chủ đang bận, sẽ thử lại lúc {time}. Các thay đổi vẫn nằm an toàn trên máy.",
    "failed_busy_files": "Máy chủ tạm thời chưa nhận tệp minh chứng, sẽ gửi lại lúc {time}. Tệp vẫn được giữ trên máy.",
    "retry_in_seconds": "Sẽ thử lại sau {n} giây.",
    "retry_in_minutes": "Sẽ thử lại sau {n} phút.",
    "retry_soon": "Sẽ thử lại ngay khi có thể.",
    "send_done": "Đã gửi hết các thay đổi.",
    "send_not_done": "Chưa gửi hết các thay đổi; ứng dụng sẽ tự thử lại.",
    # Who a conflict is between: two people, or two phones of one person.
    "conflict_people": "{winner} và {loser} đã cùng sửa mục này khi không có mạng. Hãy chọn một giá trị hoặc nhập giá trị mới.",
    "conflict_devices": "Mục này được sửa trên hai máy của {user} ({winner_device} và {loser_device}) khi không có mạng. Hãy chọn một giá trị hoặc nhập giá trị mới.",
    "conflict_between_people": "{winner} và {loser}",
    "conflict_between_devices": "hai máy của {user}: {winner_device} và {loser_device}",
    "device_unknown": "một máy khác",
    "device_name": "{platform} · đăng ký lúc {when}",
    # The review on the phone (issue 14): the reviewer's queue and checklist, the commune's comments.
    "status_pending": "Chờ gửi: {action}",
    "action_submit": "nộp phiếu",
    "action_return": "trả lại",
    "action_approve": "duyệt",
    "action_reopen": "mở lại",
    "queue_title": "Phiếu cần duyệt",
    "queue_intro": "Phiếu của các đơn vị cấp dưới, hạn sớm nhất trước. Danh sách lấy từ lần đồng bộ gần nhất nên xem được cả khi không có mạng.",
    "queue_counts": "{submitted} chờ duyệt · {returned} đã trả lại · {approved} đã duyệt · {draft} đang điền",
    "queue_shown": "Đang hiện {shown} trên {total} phiếu.",
    "queue_empty": "Không có phiếu nào khớp bộ lọc.",
    "queue_units_waiting": "Đơn vị có phiếu chờ duyệt",
    "filter_unit": "Theo đơn vị",
    "filter_template": "Theo mẫu phiếu",
    "filter_period": "Theo kỳ báo cáo",
    "filter_status": "Theo trạng thái",
    "filter_all": "Tất cả",
    "deadline_on": "Hạn {date}",
    "deadline_none": "Chưa có hạn",
    "review_unit": "Đơn vị nộp: {unit}",
    "review_version": "Phiên bản {version}",
    "review_submitted_by": "Nộp bởi {who} lúc {when}.",
    "review_answers": "Câu trả lời",
    "review_changes": "Thay đổi kể từ lần quyết định trước",
    "review_changes_since": "So với phiên bản {since}, lúc bạn quyết định.",
    "review_changes_first": "Chưa có quyết định trước nên chưa có thay đổi để so.",
    "review_changes_none": "Không có mục nào thay đổi.",
    "review_changes_offline": "Cần có mạng một lần để tải các thay đổi của phiếu này.",
    "review_change_line": "{old} → {new}",
    "review_change_by": "{who}, {when}",
    "review_conflicts": "Xung đột đang mở",
    "review_conflict_pick": "Chọn giá trị này làm kết quả",
    "review_evidence": "Minh chứng",
    "review_evidence_none": "Phiếu không có tệp minh chứng.",
    "review_timeline": "Lịch sử",
    "review_timeline_offline": "Cần có mạng một lần để tải lịch sử của phiếu này.",
    "review_decide": "Quyết định",
    "outbox_decision": "Quyết định “{action}”",
    "review_edit_answers": "Sửa câu trả lời (quản trị)",
    "review_return": "Trả lại",
    "review_approve": "Duyệt phiếu",
    "review_reopen": "Mở lại",
    "review_reason": "Lý do (bắt buộc khi trả lại hoặc mở lại)",
    "review_reason_needed": "Hãy ghi lý do trước khi trả lại hoặc mở lại phiếu.",
    "review_approve_note": "Duyệt phiên bản {version} mà bạn đang xem. Nếu đơn vị sửa phiếu trước khi quyết định này tới máy chủ, máy chủ sẽ từ chối và báo lại.",
    "review_cannot_approve_conflicts": "Phiếu còn xung đột chưa giải quyết nên chưa thể duyệt.",
    "review_not_submitted": "Phiếu chưa được nộp nên chưa thể trả lại hoặc duyệt.",
    "review_saved": "Đã lưu quyết định trên máy; sẽ gửi khi có mạng.",
    "review_refused": "Máy chủ từ chối quyết định “{action}”: {reason}",
    "review_refused_version": "Phiếu hiện ở phiên bản {version}.",
    "comment_whole": "Nhận xét chung cho cả phiếu",
    "comment_item": "Nhận xét cho mục: {item}",
    "comment_add": "Gửi nhận xét",
    "comment_write": "Viết nhận xét",
    "comment_reply": "Trả lời nhận xét",
    "comment_saved": "Đã lưu nhận xét trên máy; sẽ gửi khi có mạng.",
    "comment_empty": "Hãy nhập nội dung nhận xét.",
    "comment_by": "{who} ({role}), {when}",
    "comment_waiting": "Chưa gửi",
    "comment_refused": "Máy chủ từ chối nhận xét này: {reason}",
    "comments_title": "Nhận xét của cấp trên",
    "returned_notice": "Phiếu bị trả lại bởi {who} lúc {when}.",
    "returned_reason": "Lý do: {reason}",
    "returned_fix": "Sửa các mục có nhận xét rồi nộp lại.",
    "reopened_notice": "Phiếu đã được mở lại bởi {who} lúc {when}.",
    "approved_notice": "Phiếu đã được duyệt (phiên bản {version}).",
}


def for_client() -> dict:
    """What the phone needs to speak the server's words offline (served as /app/catalogue.json)."""
    return {
        "protocol": PROTOCOL_VERSION,
        "timezone": TIMEZONE,
        "roles": ROLE_LABELS,
        "checklist_statuses": CHECKLIST_STATUS_LABELS,
        "qms_statuses": QMS_STATUS_LABELS,
        "unit_kinds": UNIT_KIND_LABELS,
        "choices": CHOICE_LABELS,
        "reasons": REJECTION_REASONS,
        # One message per wire code (the first, most general one), for answers lost on the way.
        "errors": _messages_by_code(),
        "period_examples": PERIOD_EXAMPLES,
        "period_labels": PERIOD_LABELS,
        # Messages by name, for what the phone checks or meets itself (a login form left empty, no network).
        "messages": {**{name: message for name, (_s, _c, message) in PROBLEMS.items()}, **PHONE_MESSAGES},
        "period_recent": RECENT_PERIODS,  # how many recent periods of each kind a create form offers
        "reopened": REOPENED_LABEL,
        "review_events": REVIEW_EVENT_LABELS,
        "due_statuses": DUE_STATUS_LABELS,  # where a unit stands with a deadline ({n}: days left or past)
        "due_soon_days": DUE_SOON_DAYS,  # from how many days before its date a deadline is "due"
        # Who sees the review queue and who answers items (the phone is role-aware, issue 14).
        "deciders": list(DECIDERS),
        "editors": list(EDITORS),
    }


def _messages_by_code() -> dict[str, str]:
    out: dict[str, str] = {}
    for _status, code, message in PROBLEMS.values():
        if "{" not in message:
            out.setdefault(code, message)
    return out


def _check() -> None:
    # Every label table covers exactly its codes: a status or role without a word fails at import.
    assert set(CHECKLIST_STATUS_LABELS) == set(CHECKLIST_STATUSES)
    assert set(ROLE_LABELS) == set(ROLES)


_check()


# What an input field is called in a sentence, by its wire name (a field not listed is named as it is).
FIELD_LABELS = {
    "username": "tên đăng nhập",
    "password": "mật khẩu",
    "unit_id": "đơn vị",
    "template_id": "mẫu phiếu",
    "period": "kỳ báo cáo",
    "name": "tên",
    "parent_id": "đơn vị cấp trên",
    "into_id": "đơn vị sáp nhập vào",
    "device_id": "mã thiết bị",
    "protocol": "phiên bản giao thức",
    "client_ms": "giờ trên máy",
    "device_ms": "giờ trên máy",
    "edits": "danh sách thay đổi",
    "seq": "số thứ tự thay đổi",
    "kind": "loại thay đổi",
    "checklist_id": "mã phiếu",
    "item_key": "mã mục",
    "value": "giá trị",
    "note": "ghi chú",
    "base_version": "phiên bản gốc",
    "action": "thao tác",
    "seen_version": "phiên bản đã xem",
    "comment": "nhận xét",
    "conflict_id": "mã xung đột",
    # deadline rules
    "code": "mã quy định",
    "title": "tên hạn nộp",
    "level": "cấp đơn vị",
    "period_kind": "loại kỳ báo cáo",
    "period_offset": "độ lệch kỳ báo cáo",
    "recurrence": "cách lặp lại",
    "due_date": "ngày hạn",
    "binding": "áp dụng tại tỉnh",
    "source_number": "số văn bản",
    "source_date": "ngày văn bản",
    "source_issuer": "cơ quan ban hành",
    "source_quote": "trích dẫn văn bản",
    "starts_on": "ngày bắt đầu tính",
    "reference": "vị trí trong văn bản",
}

# A pydantic refusal as a Vietnamese sentence, by pydantic's error type. `{label}` is the field's label
# (FIELD_LABELS), `{Label}` the same with a capital; other names are pydantic's context values. A type
# not listed reads as "default".
VALIDATION_MESSAGES = {
    "missing": "Chưa nhập {label}.",
    "string_too_short": "{Label} quá ngắn (ít nhất {min_length} ký tự).",
    "string_too_long": "{Label} quá dài (tối đa {max_length} ký tự).",
    "string_type": "{Label} phải là chữ.",
    "int_type": "{Label} phải là số nguyên.",
    "int_parsing": "{Label} phải là số nguyên.",
    "int_from_float": "{Label} phải là số nguyên.",
    "float_type": "{Label} phải là số.",
    "float_parsing": "{Label} phải là số.",
    "bool_type": "{Label} phải là đúng hoặc sai.",
    "greater_than": "{Label} phải lớn hơn {gt}.",
    "greater_than_equal": "{Label} phải từ {ge} trở lên.",
    "less_than": "{Label} phải nhỏ hơn {lt}.",
    "less_than_equal": "{Label} không được lớn hơn {le}.",
    "literal_error": "{Label} không hợp lệ (chỉ nhận: {expected}).",
    "enum": "{Label} không hợp lệ (chỉ nhận: {expected}).",
    "list_type": "{Label} phải là một danh sách.",
    "too_long": "{Label} có quá nhiều phần tử (tối đa {max_length}).",
    "model_type": "{Label} phải là một đối tượng JSON.",
    "dict_type": "{Label} phải là một đối tượng JSON.",
    "extra_forbidden": "Không nhận trường '{field}'.",
    "union_tag_invalid": "{Label} không hợp lệ (chỉ nhận: {expected_tags}).",
    "default": "{Label} không hợp lệ.",
    # an empty string where one character is the minimum: "Chưa nhập mật khẩu.", not "quá ngắn"
    "empty": "Chưa nhập {label}.",
}


# What a reminder says (server/reminders/messages.py fills them in). {unit}, {title}, {period}, {due}
# (dd/mm/yyyy) and {days} come from the deadline; the same words go to the inbox, email and push.
REMINDER_TEXTS = {
    "before_title": "Sắp đến hạn: {title}",
    "before_body": "{unit} chưa nộp «{title}» ({period}). Hạn cuối: {due}, còn {days} ngày.",
    "due_title": "Hôm nay là hạn cuối: {title}",
    "due_body": "{unit} chưa nộp «{title}» ({period}). Hạn cuối là hôm nay, {due}.",
    "after_title": "Quá hạn: {title}",
    "after_body": "{unit} chưa nộp «{title}» ({period}). Hạn cuối là {due}, đã quá {days} ngày.",
    "summary_title": "Đơn vị trực thuộc chưa nộp đúng hạn ({date})",
    "summary_body": "{count} báo cáo quá hạn chưa nộp của các đơn vị trực thuộc:",
    "summary_line": "{unit}: «{title}» ({period}), hạn {due}, quá {days} ngày.",
    "open_link": "Mở ứng dụng",
    "footer": "Thư gửi tự động từ Hệ thống ISO điện tử. Tắt nhận thư trong mục Thông báo của ứng dụng.",
}

# The phone's words for reminders (pwa/js/notify.js, pwa/js/ui/inbox.js), served with PHONE_MESSAGES.
PHONE_MESSAGES.update(
    {
        "notify_offer_title": "Nhận nhắc hạn trên điện thoại",
        "notify_offer_text": "Ứng dụng báo trước hạn nộp báo cáo và khi quá hạn, kể cả khi không mở ứng dụng.",
        "notify_offer_button": "Bật thông báo",
        "notify_offer_later": "Để sau",
        "notify_on": "Đã bật thông báo trên máy này.",
        "notify_denied": "Trình duyệt đang chặn thông báo. Hãy bật lại trong phần cài đặt của trình duyệt.",
        "notify_failed": "Chưa đăng ký được thông báo đẩy. Nhắc hạn vẫn có trong mục Thông báo.",
        "inbox_link": "Thông báo",
        "inbox_title": "Thông báo",
        "inbox_empty": "Chưa có thông báo nào.",
        "inbox_saved_copy": "Đang xem bản lưu trên máy (chưa cập nhật được từ máy chủ).",
        "inbox_unread": "Chưa đọc",
        "inbox_open": "Mở phiếu",
        "prefs_title": "Nhận nhắc hạn qua",
        "prefs_push": "Thông báo đẩy trên điện thoại",
        "prefs_email": "Email",
        "prefs_email_address": "Địa chỉ email công vụ",
        "prefs_save": "Lưu",
        "prefs_saved": "Đã lưu cách nhận nhắc hạn.",
        "prefs_offline": "Cần có mạng để đổi cách nhận nhắc hạn.",
    }
)


# ---------------------------------------------------------------------------------- progress (issue 16)
# A unit's status as its approved checklists show it (server/services/progress.py, PROGRESS_STATUSES).
PROGRESS_STATUS_LABELS = {
    # no approved checklist yet: nothing the province can count on, which is not "not applying" (issue 13)
    "not_started": "Chưa có thông tin",
    "building": "Đang xây dựng",
    "converted": "Đã chuyển đổi sang ISO 9001:2015",
    "announced": "Đã công bố ISO điện tử",
    "applying": "Đang áp dụng, duy trì",
}
# One month's report of one unit (progress.TIMELINESS): a word and a sign, never colour alone.
TIMELINESS_LABELS = {
    "on_time": "Đúng hạn",
    "late": "Trễ hạn",
    "missing": "Chưa nộp, quá hạn",
    "not_yet_due": "Chưa đến hạn",
    "handed_in": "Đã nộp (không có hạn)",
    "no_deadline": "Chưa nộp (không có hạn)",
}
TIMELINESS_SIGNS = {
    "on_time": "✓",
    "late": "!",
    "missing": "✗",
    "not_yet_due": "…",
    "handed_in": "✓",
    "no_deadline": "–",
}
__all__ += ["PROGRESS_STATUS_LABELS", "TIMELINESS_LABELS", "TIMELINESS_SIGNS"]


# ---------------------------------------------------------------------------------- documents (issue 16)
# The monthly notice's annex (server/services/notice.py): one column per item of the approved monthly
# report, in the order and with the words of the Huế notice (seed 002) that is the model.
NOTICE_COLUMNS = {
    "plan_issued": "Kế hoạch xây dựng, áp dụng, duy trì, cải tiến HTQLCL",
    "objectives_issued": "Mục tiêu chất lượng và kế hoạch thực hiện",
    "audit_programme_issued": "Chương trình, kế hoạch đánh giá nội bộ",
    "internal_audit_done": "Đã đánh giá nội bộ",
    "management_review_done": "Đã họp xem xét của lãnh đạo",
    "reannounced": "Công bố lại khi có thay đổi",
    "steering_committee_updated": "Kiện toàn Ban chỉ đạo ISO",
    "new_tthc": "TTHC mới đã đưa vào HTQLCL",
    "internal_procedures_count": "Số quy trình nội bộ (trên 15)",
    "report_sent": "Gửi báo cáo tháng",
}
# The annual summary sent upward (server/services/annual_summary.py): what it adds up over the units'
# approved annual reports. Keys are the annual_report template's items.
ANNUAL_FIGURES = {
    "tthc_published": "Số thủ tục hành chính đã công bố",
    "tthc_in_system": "Số thủ tục hành chính đã áp dụng HTQLCL",
    "internal_procedures": "Số quy trình nội bộ đã xây dựng, áp dụng",
    "reannounce_count": "Số lần công bố lại trong năm",
    "nonconformities_found": "Số điểm không phù hợp phát hiện qua đánh giá nội bộ",
    "late_files": "Số hồ sơ TTHC giải quyết quá hạn",
    "staff_trained": "Số cán bộ, công chức được đào tạo, tập huấn",
    "funding_spent": "Kinh phí duy trì, cải tiến HTQLCL (đồng)",
}
ANNUAL_YES_COUNTS = {
    "eiso_in_use": "Đơn vị đã vận hành HTQLCL trên Hệ thống ISO điện tử",
    "objectives_met": "Đơn vị đạt mục tiêu chất lượng của năm",
    "internal_audit_done": "Đơn vị đã đánh giá nội bộ",
    "corrective_actions_closed": "Đơn vị đã khắc phục xong các điểm không phù hợp",
    "management_review_done": "Đơn vị đã họp xem xét của lãnh đạo",
    "steering_committee_updated": "Đơn vị đã kiện toàn Ban chỉ đạo ISO khi có thay đổi",
}
# Who issues a document, by the level of the unit whose subtree it covers: (governing body, issuing body,
# its name in a sentence, document code for "Số: …/TB-…", signer's title). The province's documents come
# from the Department of Science and Technology, the steering committee's standing office (QĐ 474 §VI.1);
# a district's version is issued by the district itself.
DOCUMENT_ISSUERS = {
    0: ("ỦY BAN NHÂN DÂN {NAME}", "SỞ KHOA HỌC VÀ CÔNG NGHỆ", "Sở Khoa học và Công nghệ", "SKHCN", "GIÁM ĐỐC"),
    1: ("ỦY BAN NHÂN DÂN {PARENT}", "{NAME}", "{Name}", "UBND", "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"),
}
__all__ += ["NOTICE_COLUMNS", "ANNUAL_FIGURES", "ANNUAL_YES_COUNTS", "DOCUMENT_ISSUERS"]
