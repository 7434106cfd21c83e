"""Interface text, Vietnamese first and English second, and number and date formatting per
language."""

from __future__ import annotations

from datetime import date
from typing import Any

from dti.formatting import format_number

TEXT = {
    "vi": {
        "ranking": "Xếp hạng", "map": "Bản đồ", "compare": "So sánh", "method": "Phương pháp",
        "api": "Dữ liệu mở", "province": "Tỉnh, thành phố", "region": "Vùng", "all_regions": "Tất cả các vùng",
        "search": "Tìm tỉnh, thành phố", "rank": "Hạng", "score": "Điểm", "change": "Thay đổi", "sources": "Nguồn",
        "not_published": "chưa công bố", "computed": "tính lại từ các chỉ số công bố",
        "basis": "Cơ sở", "provinces-63": "63 tỉnh, thành phố", "provinces-34": "34 tỉnh, thành phố (từ 1/7/2025)",
        "download": "Tải về", "licence": "Nguồn: kết quả công bố của Bộ (xem ghi chú nguồn từng dòng). Dữ liệu mở theo giấy phép CC BY 4.0 của dự án.",
        "history": "Lịch sử", "edition": "Kỳ đánh giá", "value": "Giá trị", "best": "Cao nhất",
        "mean": "Trung bình cả nước", "mean_of": "Trung bình (số tỉnh có số liệu)", "no_change": "—", "rose": "tăng", "fell": "giảm",
        "other_basis": "Thứ hạng trên cơ sở khác (63 → 34) không so sánh được",
        "language": "English", "not_found": "Không tìm thấy trang", "units_with_data": "tỉnh có điểm",
        "legal_basis": "Căn cứ", "formula": "Cách tính", "unknown": "Chưa rõ", "points": "điểm",
        "indicator": "Chỉ số", "max_points": "Điểm tối đa", "sub_indicators": "Số chỉ số thành phần",
        "pillars": "Trụ cột", "compare_hint": "Chọn 2–4 tỉnh, thành phố", "published_on": "Ngày công bố",
        "plan_link": "Cần bao nhiêu điểm để lên hạng?", "plan_title": "Cần bao nhiêu điểm để lên hạng {k}?",
        "plan_target": "Hạng mục tiêu", "plan_strict": "không đồng hạng", "plan_submit": "Tính",
        "plan_points": "Điểm cộng thêm", "plan_before": "Giá trị hiện tại", "plan_after": "Giá trị mới",
        "plan_total": "Tổng điểm cộng thêm", "plan_result": "Kết quả: điểm {s}, hạng {r}",
        "plan_rivals": "Cần vượt", "plan_overtaken": "vượt qua", "plan_tied": "đồng hạng",
        "plan_already": "Đã đạt mục tiêu.", "plan_unreachable": "Không thể đạt mục tiêu",
        "plan_defence": "Ai có thể vượt lên?", "plan_gap": "Cách biệt", "plan_needed": "Điểm cần để vượt",
        "plan_on": "Trên các chỉ số", "plan_no_threat": "Không có tỉnh nào xếp ngay sau.",
        "plan_note": "Mỗi phương án giữ nguyên số liệu của các tỉnh khác; điểm tính trên thang điểm tối đa của từng chỉ số.",
        "score_change": "Điều gì làm điểm thay đổi so với kỳ trước", "contribution": "Đóng góp vào tổng điểm",
        "before": "Kỳ trước", "after": "Kỳ này",
        "rank_interval": "Khoảng hạng (5–95 %)", "median_rank": "hạng trung vị",
        "rank_interval_note": "Phân tích độ bất định công bố kèm kỳ đánh giá: điểm tối đa của mỗi chỉ số chính thay đổi ±{noise} %, {runs} lần chạy, hạt giống {seed}.",
        "home": "Trang chủ", "years": "Năm đánh giá", "code": "Mã",
        "about_title": "Chỉ số chuyển đổi số cấp tỉnh (DTI) là gì?",
        "about": "Chỉ số chuyển đổi số cấp tỉnh (DTI) đo mức độ chuyển đổi số của từng tỉnh, thành phố trực thuộc trung ương qua ba trụ cột: chính quyền số, kinh tế số và xã hội số. Bộ Thông tin và Truyền thông (nay là Bộ Khoa học và Công nghệ) đánh giá và công bố DTI hằng năm từ kỳ đánh giá năm 2020. Cổng này trình bày mọi số liệu đã công bố của từng kỳ, kèm nguồn, và các giá trị tính lại từ những chỉ số đã công bố.",
        "editions": "Các kỳ đánh giá", "latest_title": "Kỳ mới nhất: {name}", "framework": "Bộ chỉ số",
        "ranks_published": "{ranks}/{units} hạng đã công bố", "pdf": "Báo cáo PDF",
        "leaders": "Dẫn đầu", "change_up": "tăng {n} bậc", "change_down": "giảm {n} bậc",
        "change_same": "giữ nguyên hạng", "change_none": "không có hạng kỳ trước để so sánh",
        "recomputed_mark": "tính lại", "legend": "Chú giải",
        "legend_rank": "(8): hạng đã công bố khi điểm chưa được công bố",
        "legend_recomputed": "*: giá trị tính lại từ các chỉ số đã công bố, không phải số công bố",
        "legend_change": "▲/▼/=: thay đổi hạng so với kỳ trước, chỉ khi cả hai hạng đã được công bố",
        "rank_change": "Thay đổi hạng", "previous_rank": "Hạng kỳ trước",
        "table_scroll": "Bảng cuộn ngang",
    },
    "en": {
        "ranking": "Ranking", "map": "Map", "compare": "Compare", "method": "Method",
        "api": "Open data", "province": "Province", "region": "Region", "all_regions": "All regions",
        "search": "Find a province", "rank": "Rank", "score": "Score", "change": "Change", "sources": "Sources",
        "not_published": "not published", "computed": "recomputed from published indicators",
        "basis": "Basis", "provinces-63": "63 provinces", "provinces-34": "34 provinces (from 1 July 2025)",
        "download": "Download", "licence": "Source: the ministry's published results (see each row's source note). Open data under the project's CC BY 4.0 licence.",
        "history": "History", "edition": "Edition", "value": "Value", "best": "Best",
        "mean": "National mean", "mean_of": "Mean (provinces with a value)", "no_change": "—", "rose": "up", "fell": "down",
        "other_basis": "Ranks on different bases (63 → 34) are not comparable",
        "language": "Tiếng Việt", "not_found": "Page not found", "units_with_data": "provinces with a score",
        "legal_basis": "Legal basis", "formula": "Formula", "unknown": "Not known", "points": "points",
        "indicator": "Indicator", "max_points": "Max points", "sub_indicators": "Sub-indicators",
        "pillars": "Pillars", "compare_hint": "Choose 2–4 provinces", "published_on": "Published on",
        "plan_link": "How many points to rise in rank?", "plan_title": "How many points to reach rank {k}?",
        "plan_target": "Target rank", "plan_strict": "not shared", "plan_submit": "Compute",
        "plan_points": "Points added", "plan_before": "Current value", "plan_after": "New value",
        "plan_total": "Total points added", "plan_result": "Result: score {s}, rank {r}",
        "plan_rivals": "Must overtake", "plan_overtaken": "overtaken", "plan_tied": "tied",
        "plan_already": "Target already met.", "plan_unreachable": "The target cannot be reached",
        "plan_defence": "Who could overtake?", "plan_gap": "Gap", "plan_needed": "Points needed to overtake",
        "plan_on": "On indicators", "plan_no_threat": "No province ranks just below.",
        "plan_note": "Each plan keeps the other provinces' data fixed; points are on each indicator's maximum-points scale.",
        "score_change": "What moved the score since the previous edition", "contribution": "Adds to the total",
        "before": "Previous", "after": "This edition",
        "rank_interval": "Rank interval (5–95 %)", "median_rank": "median rank",
        "rank_interval_note": "Uncertainty analysis published with the edition: each main indicator's points vary by ±{noise} %, {runs} runs, seed {seed}.",
        "home": "Home", "years": "Edition year", "code": "Code",
        "about_title": "What is the provincial DTI?",
        "about": "The Provincial Digital Transformation Index (DTI) measures how far each province and centrally governed city has come in digital transformation, across three pillars: digital government, digital economy and digital society. The Ministry of Information and Communications (now the Ministry of Science and Technology) has assessed and published the DTI every year since the 2020 edition. This portal shows every published figure of each edition, with its source, and the values recomputed from the published indicators.",
        "editions": "Editions", "latest_title": "Latest edition: {name}", "framework": "Framework",
        "ranks_published": "{ranks} of {units} ranks published", "pdf": "PDF report",
        "leaders": "Leaders", "change_up": "up {n} places", "change_down": "down {n} places",
        "change_same": "same rank", "change_none": "no previous rank to compare",
        "recomputed_mark": "recomputed", "legend": "Legend",
        "legend_rank": "(8): the published rank where the score is not published",
        "legend_recomputed": "*: a value recomputed from the published indicators, not a published figure",
        "legend_change": "▲/▼/=: rank change since the previous edition, only where both ranks are published",
        "rank_change": "Rank change", "previous_rank": "Previous rank",
        "table_scroll": "Table, scrolls sideways",
    },
}


REGIONS_EN = {
    "Trung du và miền núi phía Bắc": "Northern Midlands and Mountains",
    "Đồng bằng sông Hồng": "Red River Delta",
    "Bắc Trung Bộ và duyên hải miền Trung": "North Central and Central Coast",
    "Tây Nguyên": "Central Highlands",
    "Đông Nam Bộ": "Southeast",
    "Đồng bằng sông Cửu Long": "Mekong River Delta",
}


def region(label: str, lang: str) -> str:
    """A region's name in the interface language (the data keeps the Vietnamese label)."""
    return REGIONS_EN.get(label, label) if lang == "en" else label


def text(lang: str) -> dict[str, str]:
    return TEXT["en" if lang == "en" else "vi"]


def number(value: Any, lang: str, decimals: int = 4) -> str:
    return format_number(value, lang, decimals) if value is not None else "—"


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def date_text(value: str | date | None, lang: str) -> str:
    """A date as readers write it: 21/10/2025 in Vietnamese (day/month/year, no leading zeros, as
    the legal bases and the unit sets already write 1/7/2025), 21 October 2025 in English.

    Editions keep ISO dates, and so do the machine formats (JSON, CSV, ``<time datetime>``); only
    the text a reader sees goes through here.  A value that is not an ISO date is shown as given,
    so a date written in words in an edition file is never lost.
    """
    if not value:
        return "—"
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if lang == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.day}/{day.month}/{day.year}"


def name(row: dict[str, Any], lang: str) -> str:
    return row.get("name_en") if lang == "en" and row.get("name_en") else row.get("name_vi", "")
