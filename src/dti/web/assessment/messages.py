"""Problem messages in Vietnamese for the assessment app.

The library writes its problems in English (code and docs are English); the app shows a province
officer the Vietnamese sentence for each stable problem code, keeping the English one beside it.
A code without a Vietnamese sentence shows the English message.
"""

from __future__ import annotations

from typing import Any

VI = {
    "answer.not_a_number": "không phải là số — nhập một số, ví dụ 12 hoặc 0,5",
    "answer.negative": "không được là số âm",
    "answer.zero_denominator": "mẫu số bằng 0 — tỷ lệ không tính được; kiểm tra lại số liệu",
    "answer.unknown_option": "không phải một trong các lựa chọn của chỉ số này",
    "answer.not_yes_no": "chỉ nhận “có” hoặc “không”",
    "answer.unknown_field": "không phải một trường của chỉ số thành phần này — không có gì thay "
                            "đổi; tải lại trang rồi nhập lại",
    "answer.no_fields": "không gửi trường nào của câu trả lời nên không có gì thay đổi — muốn "
                        "xoá câu trả lời thì để trống từng ô rồi lưu",
    "evidence.too_large": "tệp vượt quá dung lượng cho phép — nén hoặc tách tệp rồi tải lại",
    "evidence.empty": "tệp rỗng",
    "evidence.bad_name": "tên tệp chứa phần thư mục (“/”, “\\”, “..”) — đổi tên tệp rồi tải lại",
    "evidence.executable": "tệp là chương trình chạy được, dù tên tệp nói gì — chỉ tải lên tài liệu "
                           "(PDF, ảnh, Word, Excel)",
    "evidence.unknown_type": "nội dung tệp không phải PDF, PNG, JPEG, Word, Excel, PowerPoint, "
                             "OpenDocument hay văn bản (không dựa vào phần mở rộng của tên tệp)",
    "evidence.no_file": "chưa chọn tệp nào",
    "evidence.too_many_files": "mỗi lần tải lên nhận tối đa 10 tệp — tải các tệp còn lại ở lần "
                               "sau",
    "evidence.quota_exceeded": "vượt dung lượng minh chứng dành cho tỉnh trong kỳ đánh giá này "
                               "— không có tệp nào được lưu; nén hoặc tách tệp, hoặc đề nghị "
                               "quản trị viên nâng hạn mức (DTI_EVIDENCE_QUOTA_MB)",
    "evidence.damaged": "tệp không mở được đúng như loại tệp mà nội dung của nó cho biết (hỏng, "
                        "bị cắt ngắn hoặc giả dạng) — lưu lại tệp từ phần mềm đã tạo ra nó rồi "
                        "tải lại",
    "evidence.active_content": "tệp chứa mã có thể tự chạy (trang web, SVG, XML, mã JavaScript "
                               "hoặc macro) — lưu thành PDF hoặc tài liệu không có macro rồi tải "
                               "lại",
    "evidence.extension_not_allowed": "tên tệp có phần mở rộng không được nhận — chỉ nhận .pdf, "
                                      ".png, .jpg, .jpeg, .docx, .xlsx, .pptx, .odt, .ods, .odp, "
                                      ".txt, .csv",
    "evidence.extension_mismatch": "phần mở rộng của tên tệp không đúng với nội dung tệp — đổi "
                                   "tên tệp cho đúng loại rồi tải lại",
    "workflow.reason_required": "cần nêu lý do — tỉnh sẽ thấy lý do này và nhật ký lưu lại",
    "workflow.nothing_returned": "cần trả lại ít nhất một câu trả lời kèm lý do trước khi trả hồ sơ",
    "workflow.empty_comment": "ý kiến đang để trống",
    "workflow.text_too_long": "quá 5.000 ký tự — đính kèm văn bản dài dưới dạng tệp minh chứng",
    "entry.bad_version": "thiếu phiên bản của câu trả lời — tải lại trang rồi lưu lại",
    "import.not_xlsx": "tệp không phải sổ Excel (.xlsx) — có thể là CSV hoặc tệp khác bị đổi tên",
    "import.too_large": "tệp vượt quá dung lượng cho phép",
    "import.empty": "tệp rỗng",
    "import.missing_sheet": "thiếu trang tính “Hướng dẫn” hoặc “Trả lời” — dùng đúng mẫu đã tải về",
    "import.missing_column": "thiếu cột trong dòng tiêu đề của trang “Trả lời” — dùng đúng mẫu đã tải về",
    "import.wrong_edition": "mẫu thuộc kỳ đánh giá khác (ô B4)",
    "import.unknown_province": "mã hoặc tên tỉnh trên trang “Hướng dẫn” (ô B5, B6) không có trong danh sách",
    "import.wrong_province": "mẫu là của tỉnh khác",
    "import.unknown_indicator": "mã chỉ số thành phần không có trong kỳ đánh giá này",
    "import.duplicate_row": "chỉ số thành phần xuất hiện hai lần",
    "import.extra_value": "có giá trị ở cột mà chỉ số này không dùng",
    "import.bad_version": "ô phiên bản (ẩn) đã bị sửa hoặc xoá — tải mẫu mới",
    "file.workbook_too_large": "sổ Excel quá lớn để đọc (khi giải nén quá lớn, hoặc quá nhiều dòng "
                               "hay ô so với bảng này) — chưa đọc gì từ tệp; xoá các trang tính, "
                               "hình ảnh và dòng trống thừa (hoặc chép các ô cần thiết sang sổ mới) "
                               "rồi tải lại",
}


def localise(problem: dict[str, Any], lang: str) -> dict[str, Any]:
    """The problem as a dict, with ``message`` in ``lang`` and the English kept as ``message_en``."""
    vi = VI.get(problem.get("code", ""))
    if lang != "vi" or vi is None:
        return problem
    return {**problem, "message": vi, "message_en": problem.get("message")}
