"""Tests of dti.units: the shipped unit sets, the 2025 crosswalk, the name resolver and user
unit sets read from CSV."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from dti.errors import DtiError, InputError, UnknownUnitError
from dti.units import (
    AmbiguousUnitError,
    MergedUnitError,
    Unit,
    UnitSet,
    UnknownCrosswalkError,
    UnknownUnitSetError,
    load_crosswalk,
    load_unit_set,
    normalise_name,
    unit_set_ids,
)


@pytest.fixture(scope="module")
def provinces_63() -> UnitSet:
    return load_unit_set("provinces-63")


@pytest.fixture(scope="module")
def provinces_34() -> UnitSet:
    return load_unit_set("provinces-34")


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# -- spellings --------------------------------------------------------------------------------

SPELLINGS_63 = [
    # tone placement, old and new
    ("Khánh Hòa", "56"), ("Khánh Hoà", "56"), ("Hòa Bình", "17"), ("Hoà Bình", "17"),
    ("Thanh Hóa", "38"), ("Thanh Hoá", "38"),
    # hyphen and dash variants
    ("Thừa Thiên Huế", "46"), ("Thừa Thiên - Huế", "46"), ("Bà Rịa - Vũng Tàu", "77"),
    ("Bà Rịa–Vũng Tàu", "77"), ("Bà Rịa-Vũng Tàu", "77"), ("Ba Ria Vung Tau", "77"),
    # administrative prefixes
    ("Tỉnh Nghệ An", "40"), ("Tinh Nghe An", "40"), ("TP. Hồ Chí Minh", "79"),
    ("TP Cần Thơ", "92"), ("Tp Hải Phòng", "31"), ("Thành phố Đà Nẵng", "48"),
    ("Thanh pho Da Nang", "48"), ("T.P. Hà Nội", "01"), ("Tp.HCM", "79"),
    # short forms and aliases
    ("TP HCM", "79"), ("HCM", "79"), ("TPHCM", "79"), ("Sài Gòn", "79"), ("HCMC", "79"),
    ("TT Huế", "46"), ("TT-Huế", "46"), ("Huế", "46"), ("HN", "01"), ("BR-VT", "77"),
    ("Đắk Lắk", "66"), ("Đắc Lắc", "66"), ("Dak Lak", "66"), ("Đắk Nông", "67"),
    ("Dak Nong", "67"), ("Bắc Kạn", "06"), ("Bắc Cạn", "06"),
    # no diacritics, case and whitespace
    ("thai nguyen", "19"), ("Ha Noi", "01"), ("da nang", "48"), ("DA NANG", "48"),
    ("  Hà   Nội  ", "01"), ("dak lak", "66"), ("Ðà Nẵng", "48"),
    # GSO codes
    ("01", "01"), ("1", "01"), ("79", "79"), (" 6 ", "06"),
    # English names
    ("Ho Chi Minh City", "79"), ("Hanoi", "01"), ("Da Nang City", "48"),
    ("Thua Thien Hue", "46"), ("Ba Ria - Vung Tau Province", "77"),
]


@pytest.mark.parametrize(("spelling", "code"), SPELLINGS_63)
def test_spellings_resolve_in_63_set(provinces_63: UnitSet, spelling: str, code: str) -> None:
    assert provinces_63.resolve(spelling) == code


@pytest.mark.parametrize(("spelling", "code"), SPELLINGS_63)
def test_nfd_input_resolves_like_nfc(provinces_63: UnitSet, spelling: str, code: str) -> None:
    assert provinces_63.resolve(nfd(spelling)) == code


SPELLINGS_34 = [
    ("Hà Nội", "01"), ("HN", "01"), ("Hanoi", "01"), ("TP HCM", "79"), ("Sài Gòn", "79"),
    ("Thừa Thiên Huế", "46"), ("TT-Huế", "46"), ("Huế", "46"), ("Hue City", "46"),
    ("Khánh Hoà", "56"), ("Đắc Lắc", "66"), ("Tuyên Quang Province", "08"), ("1", "01"),
    ("Bắc Ninh", "24"), ("Ninh Bình", "37"), ("tinh lao cai", "15"),
]


@pytest.mark.parametrize(("spelling", "code"), SPELLINGS_34)
def test_spellings_resolve_in_34_set(provinces_34: UnitSet, spelling: str, code: str) -> None:
    assert provinces_34.resolve(spelling) == code
    assert provinces_34.resolve(nfd(spelling)) == code


@pytest.mark.parametrize("set_id", ["provinces-63", "provinces-34"])
def test_every_name_of_every_unit_resolves_to_its_own_code(set_id: str) -> None:
    unit_set = load_unit_set(set_id)
    for unit in unit_set:
        for name in (unit.name_vi, unit.name_ascii, unit.name_en, unit.code):
            assert unit_set.resolve(name) == unit.code, name


@pytest.mark.parametrize(("text", "key"), [
    ("Thành phố Hồ Chí Minh", "hochiminh"), ("T.P. Hà Nội", "hanoi"), ("Đắk Lắk", "daklak"),
    (nfd("Khánh Hoà"), "khanhhoa"), ("Bà Rịa–Vũng Tàu", "bariavungtau"), ("Da Nang City", "danang"),
    ("Tỉnh", "tinh"), ("Thanh Hóa", "thanhhoa"),
])
def test_normalise_name(text: str, key: str) -> None:
    assert normalise_name(text) == key


# -- the shipped sets -------------------------------------------------------------------------

@pytest.mark.parametrize(("set_id", "count"), [("provinces-63", 63), ("provinces-34", 34)])
def test_shipped_sets_have_unique_codes_and_nfc_names(set_id: str, count: int) -> None:
    unit_set = load_unit_set(set_id)
    assert len(unit_set) == count
    assert len(set(unit_set.codes)) == count
    assert all(len(code) == 2 and code.isdigit() for code in unit_set.codes)
    for unit in unit_set:
        for text in (unit.name_vi, unit.name_en, unit.region, unit.type):
            assert unicodedata.is_normalized("NFC", text)
        assert unit.name_vi != unit.name_ascii or unit.name_vi.isascii()
    assert len({normalise_name(unit.name_vi) for unit in unit_set}) == count


def test_set_ids_and_validity_dates(provinces_63: UnitSet, provinces_34: UnitSet) -> None:
    assert unit_set_ids() == ("provinces-63", "provinces-34")
    assert (provinces_63.valid_from, provinces_63.valid_to) == (None, "2025-06-30")
    assert (provinces_34.valid_from, provinces_34.valid_to) == ("2025-07-01", None)
    assert load_unit_set("provinces-63") is provinces_63  # cached


def test_unknown_set_id_names_the_known_ids() -> None:
    with pytest.raises(UnknownUnitSetError) as caught:
        load_unit_set("provinces-64")
    assert isinstance(caught.value, DtiError)
    assert "provinces-63" in str(caught.value) and "provinces-34" in str(caught.value)


def test_container_protocol(provinces_63: UnitSet) -> None:
    assert "01" in provinces_63 and "03" not in provinces_63
    assert provinces_63.get("46").name_vi == "Huế"
    assert [unit.code for unit in provinces_63][:3] == ["01", "02", "04"]
    with pytest.raises(KeyError):
        provinces_63.get("1")


def test_names_by_language(provinces_34: UnitSet) -> None:
    hanoi = provinces_34.get("01")
    assert (hanoi.name(), hanoi.name("en"), hanoi.name("ascii")) == (
        "Hà Nội", "Ha Noi City", "Ha Noi")
    assert provinces_34.get("08").name("en") == "Tuyen Quang Province"
    assert provinces_34.get("79").name("en") == "Ho Chi Minh City"
    with pytest.raises(ValueError):
        hanoi.name("fr")


def test_63_english_names_follow_the_rule_used_for_34(provinces_63: UnitSet) -> None:
    for unit in provinces_63:
        designation = "City" if unit.type.startswith("thành phố") else "Province"
        assert unit.name_en == f"{unit.name_ascii} {designation}"


def test_34_set_has_six_cities_and_derived_types(provinces_34: UnitSet) -> None:
    cities = sorted(unit.code for unit in provinces_34 if unit.type.startswith("thành phố"))
    assert cities == ["01", "31", "46", "48", "79", "92"]
    assert {unit.type for unit in provinces_34} == {"thành phố trực thuộc trung ương", "tỉnh"}


def test_empty_regions_stay_empty(provinces_34: UnitSet) -> None:
    regions = provinces_34.group_of("region")
    empty = sorted(code for code, region in regions.items() if region == "")
    assert empty == ["24", "25", "51", "52", "66", "68", "80"]
    assert "region" not in provinces_34.get("24").groups
    assert provinces_34.get("01").groups["region"] == "Đồng bằng sông Hồng"


def test_group_of_unknown_column_is_an_input_error(provinces_63: UnitSet) -> None:
    with pytest.raises(InputError, match="no grouping column 'regoin'"):
        provinces_63.group_of("regoin")


# -- crosswalk --------------------------------------------------------------------------------

def test_crosswalk_is_complete_and_consistent(provinces_63: UnitSet,
                                              provinces_34: UnitSet) -> None:
    crosswalk = load_crosswalk()
    assert (crosswalk.from_set, crosswalk.to_set) == ("provinces-63", "provinces-34")
    assert sorted(crosswalk.old_to_new) == sorted(provinces_63.codes)
    assert sorted(crosswalk.new_to_old) == sorted(provinces_34.codes)
    assert set(crosswalk.old_to_new.values()) == set(provinces_34.codes)
    old_codes = [old for olds in crosswalk.new_to_old.values() for old in olds]
    assert len(old_codes) == len(set(old_codes)) == 63
    for new, olds in crosswalk.new_to_old.items():
        assert new in olds  # each new unit keeps one of its old codes
        assert all(crosswalk.old_to_new[old] == new for old in olds)
        assert provinces_34.get(new).merged_from == olds


@pytest.mark.parametrize(("old", "new"), [
    ("02", "08"), ("10", "15"), ("27", "24"), ("35", "37"), ("46", "46"), ("77", "79"),
    ("62", "51"), ("93", "92"),
])
def test_crosswalk_examples(old: str, new: str) -> None:
    assert load_crosswalk().old_to_new[old] == new


def test_unknown_crosswalk_pair() -> None:
    with pytest.raises(UnknownCrosswalkError, match="no crosswalk"):
        load_crosswalk("provinces-34", "provinces-63")
    with pytest.raises(UnknownUnitSetError):
        load_crosswalk("provinces-63", "districts")


# -- failures ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("old_name", "successor"), [
    ("Hà Giang", "Tuyên Quang"), ("Ha Giang", "Tuyên Quang"), ("Bắc Kạn", "Thái Nguyên"),
    ("Bắc Cạn", "Thái Nguyên"), ("Đắk Nông", "Lâm Đồng"), ("Dak Nong", "Lâm Đồng"),
    ("Bà Rịa - Vũng Tàu", "TP. Hồ Chí Minh"), ("BR-VT", "TP. Hồ Chí Minh"), ("Bắc Giang", "Bắc Ninh"),
    ("Hà Nam", "Ninh Bình"), ("Kon Tum", "Quảng Ngãi"), ("02", "Tuyên Quang"),
])
def test_merged_away_names_explain_the_merger(provinces_34: UnitSet, old_name: str,
                                              successor: str) -> None:
    with pytest.raises(MergedUnitError) as caught:
        provinces_34.resolve(old_name)
    error = caught.value
    assert isinstance(error, UnknownUnitError)
    assert successor in error.suggestions
    assert f"merged into {successor} on 1 July 2025" in str(error)
    assert error.successor_code == provinces_34.resolve(successor)


def test_ha_giang_message_in_full(provinces_34: UnitSet) -> None:
    with pytest.raises(MergedUnitError) as caught:
        provinces_34.resolve("Hà Giang")
    assert str(caught.value) == (
        "'Hà Giang' is not a unit of provinces-34: Hà Giang (old code 02) merged into Tuyên "
        "Quang on 1 July 2025; use Tuyên Quang (code 08)")
    assert caught.value.unit_set == "provinces-34"


def test_unknown_name_suggests_closest_vietnamese_names(provinces_63: UnitSet) -> None:
    with pytest.raises(UnknownUnitError) as caught:
        provinces_63.resolve("Hà Nam Ninh")
    suggestions = caught.value.suggestions
    assert 1 <= len(suggestions) <= 3
    assert "Hà Nam" in suggestions
    assert {"Ninh Bình", "Nam Định"} & set(suggestions)
    assert all(unicodedata.is_normalized("NFC", name) for name in suggestions)
    assert "did you mean" in str(caught.value) and "Hà Nam" in str(caught.value)
    assert not isinstance(caught.value, (MergedUnitError, AmbiguousUnitError))


@pytest.mark.parametrize("name", ["", "xyz", "99", "Hà Nam Ninh", "Bangkok"])
def test_unknown_names_raise(provinces_63: UnitSet, name: str) -> None:
    with pytest.raises(UnknownUnitError):
        provinces_63.resolve(name)


def test_ambiguous_name_raises_instead_of_choosing() -> None:
    districts = UnitSet("districts", "Huyện", "Districts", (
        Unit("A1", "Châu Thành", name_en="Chau Thanh District"),
        Unit("B2", "Tân Phú", name_en="Chau Thanh"),
    ))
    with pytest.raises(AmbiguousUnitError) as caught:
        districts.resolve("chau thanh")
    assert caught.value.codes == ["A1", "B2"]
    assert "matches more than one unit" in str(caught.value)
    assert districts.resolve("Tân Phú") == "B2"


def test_resolve_many_reports_every_failure(provinces_34: UnitSet) -> None:
    assert provinces_34.resolve_many(["HN", "Huế"]) == {"HN": "01", "Huế": "46"}
    with pytest.raises(InputError) as caught:
        provinces_34.resolve_many(["HN", "Hà Giang", "Atlantis"])
    problems = caught.value.problems
    assert [(problem.code, problem.unit) for problem in problems] == [
        ("units.merged", "Hà Giang"), ("units.unknown", "Atlantis")]


# -- user unit sets from CSV ------------------------------------------------------------------

MINISTRIES_CSV = """\
code,name,name_en,group
BTC,Bộ Tài chính,Ministry of Finance,có dịch vụ công
BCA,Bộ Công an,Ministry of Public Security,có dịch vụ công
BQP,Bộ Quốc phòng,Ministry of National Defence,không có dịch vụ công
"""


def test_from_csv_loads_and_resolves(tmp_path: Path) -> None:
    path = tmp_path / "ministries.csv"
    path.write_text(MINISTRIES_CSV, encoding="utf-8")
    ministries = UnitSet.from_csv(path, "ministries", name_vi="Bộ, ngành")
    assert ministries.codes == ("BTC", "BCA", "BQP")
    assert ministries.resolve("bo tai chinh") == "BTC"
    assert ministries.resolve(nfd("Bộ Công an")) == "BCA"
    assert ministries.resolve("Ministry of National Defence") == "BQP"
    assert ministries.resolve("BQP") == "BQP"
    assert ministries.group_of("group") == {
        "BTC": "có dịch vụ công", "BCA": "có dịch vụ công", "BQP": "không có dịch vụ công"}
    assert ministries.get("BTC").name_ascii == "Bo Tai chinh"
    assert (ministries.name_vi, ministries.name_en) == ("Bộ, ngành", "Bộ, ngành")
    with pytest.raises(UnknownUnitError) as caught:
        ministries.resolve("Bộ Tài chánh")
    assert caught.value.suggestions[0] == "Bộ Tài chính"
    with pytest.raises(UnknownUnitError):
        ministries.resolve("HN")  # province aliases do not leak into user sets


def test_from_csv_semicolon_bom_and_name_vi(tmp_path: Path) -> None:
    path = tmp_path / "communes.csv"
    path.write_bytes(b"\xef\xbb\xbfcode;name_vi;region\n001;Ph\xc6\xb0\xe1\xbb\x9dng 1;A\n")
    communes = UnitSet.from_csv(path, "communes")
    assert communes.get("001").name_vi == "Phường 1"
    assert communes.get("001").region == "A"
    assert communes.resolve("1") == "001"


def test_bad_csv_lists_every_problem_with_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"code,name,group\n"
        b"BTC,B\xe1\xbb\x99 T\xc3\xa0i ch\xc3\xadnh,a\n"   # row 2: fine (UTF-8)
        b"BTC,B\xe1\xbb\x99 C\xc3\xb4ng an,a\n"             # row 3: duplicate code
        b"BQP,,b\n"                                         # row 4: empty name
        b"BYT,B\xf4 Y t\xea,b\n"                            # row 5: Latin-1 bytes
        b"BNG,bo tai chinh,b\n"                             # row 6: same name as row 2
        b",B\xe1\xbb\x99 Ngo\xe1\xba\xa1i giao,b\n"         # row 7: empty code
    )
    with pytest.raises(InputError) as caught:
        UnitSet.from_csv(path, "ministries")
    problems = caught.value.problems
    assert [(problem.row, problem.code) for problem in problems] == [
        (3, "units.duplicate_code"), (4, "units.empty_name"), (5, "file.encoding"),
        (6, "units.duplicate_name"), (7, "units.empty_code")]
    assert all(problem.file == "bad.csv" for problem in problems)
    assert problems[0].message == ("the code 'BTC' is already used in row 2; each unit needs "
                                   "its own code")
    assert problems[1].message == "the name is empty; every unit needs a name"
    assert problems[2].message.startswith("the file is not UTF-8 (bad byte 0xf4 at line 5)")
    assert "CSV UTF-8" in problems[2].message
    assert "row 2" in problems[3].message and "Bộ Tài chính" in problems[3].message
    assert problems[4].column == "code"
    assert "and 4 more problems" in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf", b"  \r\n"])
def test_empty_csv_is_an_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        UnitSet.from_csv(path, "empty")
    assert [problem.code for problem in caught.value.problems] == ["file.empty"]
    assert "the file is empty" in str(caught.value)


def test_csv_header_problems_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("id,label\nX,Y\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        UnitSet.from_csv(path, "x")
    assert [(problem.row, problem.column) for problem in caught.value.problems] == [
        (1, "code"), (1, "name")]
    assert "there is no 'code' column" in caught.value.problems[0].message


def test_csv_with_header_only_or_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "header_only.csv"
    path.write_text("code,name\n", encoding="utf-8")
    with pytest.raises(InputError, match="no units"):
        UnitSet.from_csv(path, "x")
    with pytest.raises(InputError, match="does not exist"):
        UnitSet.from_csv(tmp_path / "missing.csv", "x")


def test_utf16_csv_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes("code,name\nA,Bộ A\n".encode("utf-16"))
    with pytest.raises(InputError) as caught:
        UnitSet.from_csv(path, "x")
    assert len(caught.value.problems) == 1
    assert "UTF-16" in caught.value.problems[0].message


def test_misaligned_row_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "commas.csv"
    path.write_text("code,name\nA,Bộ A, và B\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        UnitSet.from_csv(path, "x")
    assert [(problem.row, problem.code) for problem in caught.value.problems] == [
        (2, "units.extra_values")]


def test_units_are_hashable_and_groups_read_only() -> None:
    unit = Unit("A", "Bộ A", groups={"group": "x"})
    assert {unit: 1}[unit] == 1
    with pytest.raises(TypeError):
        unit.groups["group"] = "y"  # type: ignore[index]


def test_crosswalk_counterparts_both_ways():
    from dti.units import load_crosswalk

    crosswalk = load_crosswalk()
    assert crosswalk.counterparts("48", "provinces-34", "provinces-63") == ("48", "49")
    assert crosswalk.counterparts("49", "provinces-63", "provinces-34") == ("48",)
    assert crosswalk.counterparts("19", "provinces-34", "provinces-34") == ("19",)
    assert crosswalk.counterparts("99", "provinces-63", "provinces-34") == ()


# -- names by date ----------------------------------------------------------------------------------

def test_names_are_shown_as_they_were_and_every_name_still_resolves() -> None:
    from dti.units import load_unit_set

    then = load_unit_set("provinces-63", as_of="2022-12-31")
    now = load_unit_set("provinces-63", as_of="2025-06-30")
    assert (then.get("46").name("vi"), then.get("46").name("en")) == ("Thừa Thiên Huế", "Thua Thien Hue Province")
    assert (now.get("46").name("vi"), now.get("46").name("en")) == ("Huế", "Hue City")
    for units in (then, now):
        assert {units.resolve(n) for n in ("Huế", "Thừa Thiên Huế", "TT Huế", "Hue City",
                                           "Thua Thien Hue")} == {"46"}
        assert units.get("79").name("vi") == "TP. Hồ Chí Minh"
        assert {units.resolve(n) for n in ("Hồ Chí Minh", "TP HCM", "Ho Chi Minh City")} == {"79"}
    assert load_unit_set("provinces-34", as_of="2025-12-31").get("46").name("vi") == "Huế"


def test_an_edition_names_its_units_at_the_end_of_its_year() -> None:
    from dti.editions import load_edition

    assert load_edition("dti-province-2022").units().get("46").name_vi == "Thừa Thiên Huế"
    assert load_edition("dti-province-2024").units("provinces-63").get("46").name_vi == "Thừa Thiên Huế"
    assert load_edition("dti-province-2024").units().get("46").name_vi == "Huế"
