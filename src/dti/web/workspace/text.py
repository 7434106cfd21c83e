"""Words shared by every page of the assessment app, Vietnamese first.  Each route module keeps
its own words beside it (passed to :func:`dti.web.workspace.deps.render` as ``extra_text``)."""

from __future__ import annotations

ROLE_NAMES = {
    "vi": {"admin": "Quản trị", "reviewer": "Thẩm định viên (Bộ)", "province_editor": "Cán bộ nhập liệu (tỉnh)",
           "province_approver": "Lãnh đạo phê duyệt (tỉnh)", "public": "Khách"},
    "en": {"admin": "Administrator", "reviewer": "Ministry reviewer", "province_editor": "Province editor",
           "province_approver": "Province approver", "public": "Visitor"},
}

STATE_NAMES = {
    "vi": {"draft": "Đang nhập", "submitted": "Đã gửi", "in_review": "Đang thẩm định",
           "returned": "Trả lại", "appraised": "Đã thẩm định", "approved": "Đã phê duyệt",
           "published": "Đã công bố"},
    "en": {"draft": "Draft", "submitted": "Submitted", "in_review": "In review", "returned": "Returned",
           "appraised": "Appraised", "approved": "Approved", "published": "Published"},
}

TEXT = {
    "vi": {
        "app_name": "Tự đánh giá chuyển đổi số", "login": "Đăng nhập", "logout": "Đăng xuất",
        "username": "Tên đăng nhập", "password": "Mật khẩu", "language": "English",
        "csrf_failed": "Phiên làm việc đã thay đổi; tải lại trang rồi thử lại.",
        "login_required": "Vui lòng đăng nhập.", "home": "Trang chính", "public_site": "Trang công khai",
        "illustrative": "MINH HOẠ — bộ chỉ số thành phần minh hoạ và số liệu mô phỏng, không phải số liệu chính thức",
        "error": "Không thực hiện được", "back": "Quay lại", "problems": "Các vấn đề cần sửa",
    },
    "en": {
        "app_name": "Digital transformation self-assessment", "login": "Log in", "logout": "Log out",
        "username": "User name", "password": "Password", "language": "Tiếng Việt",
        "csrf_failed": "Your session changed; reload the page and try again.",
        "login_required": "Please log in.", "home": "Home", "public_site": "Public site",
        "illustrative": "ILLUSTRATIVE — an illustrative sub-indicator catalogue and simulated data, not official figures",
        "error": "Could not be done", "back": "Back", "problems": "Problems to fix",
    },
}


def text(lang: str) -> dict[str, str]:
    lang = "en" if lang == "en" else "vi"
    return {**TEXT[lang], **{f"role_{k}": v for k, v in ROLE_NAMES[lang].items()},
            **{f"state_{k}": v for k, v in STATE_NAMES[lang].items()}}
