"""What an official meets first on the unit list: search by word starts, same-name units told apart by
their district, the province's root not counted among the 147 agencies, "Chưa có thông tin" for no data."""

from __future__ import annotations

from server.catalogue import QMS_STATUS_LABELS
from server.services.units import matches_word_starts
from server.textfold import fold_diacritics

from .conftest import unit_id


def test_a_query_word_must_begin_a_word_of_the_name():
    name = fold_diacritics("Ủy ban nhân dân xã Đăk Long")
    assert matches_word_starts(name, ["dak", "lo"])
    assert not matches_word_starts(name, ["ha"])  # inside "nhân", not at a word's start
    assert matches_word_starts(fold_diacritics("UBND huyện Ia H'Drai"), ["drai"])


async def test_dak_ha_finds_dak_ha_and_not_every_name_with_nhan(login):
    admin = await login("admin")
    names = [u["name"] for u in (await admin.get("/api/units", params={"q": "dak ha"})).json()["units"]]
    assert names and all("Hà" in n for n in names), names
    assert any("Đăk Hà" in n for n in names)
    assert not any("Đăk Long" in n or "Đắk Long" in n for n in names)


async def test_the_units_page_searches_by_word_starts_too(login):
    admin = await login("admin")
    page = (await admin.get("/units", params={"q": "dak ha"})).text
    assert "Đăk Hà" in page and "Đăk Long" not in page and "Đắk Long" not in page


async def test_units_of_the_same_name_name_their_district(login):
    admin = await login("admin")
    found = (await admin.get("/api/units", params={"q": "dak long"})).json()["units"]
    assert len(found) == 3
    parents = {u["parent_name"] for u in found}
    assert len(parents) == 3 and all(parents), parents
    for u in found:
        assert u["parent_id"] and u["parent_name"]
    alone = (await admin.get("/api/units", params={"q": "ia toi"})).json()["units"]
    assert alone[0]["parent_name"] is None  # a unique name needs no district beside it

    page = (await admin.get("/units", params={"q": "dak long"})).text
    for name in parents:
        assert f"({name})" in page


async def test_the_province_root_is_not_counted_among_the_147(login):
    admin = await login("admin")
    page = (await admin.get("/units")).text
    assert "147 đơn vị" in page and "148 đơn vị" not in page
    root = await unit_id("KT")
    assert f'href="/units/{root}"' in page  # still shown, as the tree's top


async def test_a_unit_without_data_reads_no_information_not_not_applying(login):
    admin = await login("admin")
    assert QMS_STATUS_LABELS["none"] == "Chưa có thông tin"
    page = (await admin.get(f"/units/{await unit_id('KT-077')}")).text
    assert "Chưa có thông tin" in page and "Chưa áp dụng" not in page
