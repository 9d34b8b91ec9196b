"""The words of the protocol: roles, checklist statuses, rejection reasons and whole-request refusals.

Pure data, the floor every layer may import (the engine, the server, the reference client). The server's
catalogue (`server/catalogue.py`) adds the labels people read and hands all of it to the phone, so a code
and its Vietnamese message are written here once.
"""

from __future__ import annotations

# Roles of accounts. Officials fill in their unit's checklists; reviewers decide on the units below
# theirs; the provincial admin does both over the whole province; viewers only read.
ROLES = ("official", "reviewer", "admin", "viewer")
EDITORS = ("official", "admin")  # may answer items and submit
RESOLVERS = ("official", "reviewer", "admin")  # may settle a conflict
DECIDERS = ("reviewer", "admin")  # may return, approve and reopen what the units below declared
CREATORS = ("official", "reviewer", "admin")  # may create a checklist for a unit in scope
TREE_ADMINS = ("admin",)  # may rename, move and merge units
AUDITORS = ("admin",)  # may read the edit log of a checklist (GET /api/checklists/{id}/edits)

CHECKLIST_STATUSES = ("draft", "submitted", "returned", "approved")

# Why one edit was not applied (push results, `my_rejected` on pull). The edit is kept either way.
REJECTION_REASONS = {
    "checklist_locked": "Phiếu đã nộp hoặc đã được duyệt nên thay đổi này không được áp dụng; thay đổi vẫn được lưu lại.",
    "out_of_scope": "Phiếu này không thuộc phạm vi của bạn.",
    "not_found": "Không tìm thấy phiếu, mục hoặc xung đột.",
    "invalid_value": "Giá trị không hợp lệ cho mục này.",
    "forbidden": "Tài khoản của bạn không có quyền thực hiện thao tác này.",
    "bad_transition": "Không thể chuyển trạng thái phiếu từ trạng thái hiện tại.",
    "version_changed": "Phiếu đã thay đổi kể từ khi bạn xem: hãy xem lại trước khi duyệt.",
    "open_conflicts": "Phiếu còn xung đột chưa giải quyết nên chưa thể duyệt.",
    "conflict_closed": "Xung đột này đã được giải quyết trước đó.",
    "template_unknown": "Không có mẫu phiếu này hoặc mẫu đã ngừng sử dụng nên không tạo được phiếu.",
    "invalid_period": "Kỳ báo cáo không hợp lệ cho mẫu phiếu này nên không tạo được phiếu.",
    "checklist_id_taken": "Mã phiếu này đã được dùng cho một phiếu khác nên không tạo được phiếu.",
    # A seq the server already recorded, re-sent with a different edit: the recorded edit stands.
    "duplicate_mismatch": "Thay đổi này mang số thứ tự đã dùng cho một thay đổi khác nên không được áp dụng; nội dung được lưu lại để xem xét.",
    "malformed": "Thay đổi này không đúng định dạng (giá trị quá dài, quá lớn hoặc có ký tự không hợp lệ) nên không được áp dụng; các thay đổi sau vẫn được gửi.",
    # the review round trip (issue 14): comments and decisions
    "reason_required": "Trả lại hoặc mở lại phiếu cần ghi rõ lý do.",
    "own_submission": "Bạn đã nộp phiếu này nên không thể tự duyệt hoặc trả lại; phiếu cần người khác duyệt.",
    "value_not_entered": "Người duyệt chỉ được chọn một trong các giá trị đã nhập, không được nhập giá trị mới.",
    "reopen_above_only": "Phiếu đã duyệt chỉ được mở lại bởi cấp trên của người đã duyệt (hoặc quản trị tỉnh).",
    "comment_id_taken": "Mã nhận xét này đã được dùng cho nhận xét của một phiếu khác nên nhận xét không được lưu.",
}

# Refusals of a whole sync request: code -> (HTTP status, message).
SYNC_ERRORS = {
    "client_too_old": (426, "Ứng dụng đã cũ: vui lòng tải lại để cập nhật."),
    "unknown_device": (404, "Thiết bị chưa được đăng ký: ứng dụng sẽ đăng ký lại."),
    "device_revoked": (403, "Thiết bị này đã bị thu hồi: dữ liệu chưa gửi được lưu lại để xem xét."),
    "sequence_gap": (409, "Thiếu một số thay đổi ở giữa: ứng dụng sẽ gửi lại từ số còn thiếu."),
    "seq_repeated": (422, "Một số thứ tự xuất hiện hai lần với nội dung khác nhau trong cùng một lần gửi."),
    "protocol_unsupported": (422, "Máy chủ chưa hỗ trợ phiên bản giao thức đồng bộ này."),
}
