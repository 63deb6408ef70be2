"""The indicator pages in English: built-in presets, the catalogue, period and rule-set labels are
translated on the page (template first, then its arguments); a district's own preset keeps its words;
Chinese stays the default."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
from datetime import date
from html import unescape

import pytest
from django.utils import translation

from jiayi.indicators import catalogue as C
from jiayi.indicators import periods as P
from jiayi.indicators import presets as presets_mod
from jiayi.indicators import selectors
from jiayi.indicators.texts import Text

#: Chinese characters and Chinese punctuation (、。「」（）：；，…).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _texts(text: object):
    """``text`` and every Text among its arguments."""
    if isinstance(text, Text):
        yield text
        for arg in text.args.values():
            yield from _texts(arg)


def _catalogue_messages() -> list[object]:
    out: list[object] = [*C.GROUPS.values(), *C.PERIOD_TYPES.values()]
    for i in C.indicators():
        out += [i.name, i.numerator, i.denominator, i.source]
        if i.note:
            out.append(i.note)
    return out


def _preset_messages() -> list[object]:
    out: list[object] = []
    for p in presets_mod.PRESETS.values():
        out += [p.title, p.area]
        for t in p.targets:
            out.append(t.label)
            if t.note:
                out.append(t.note)
    return out


# ---------------------------------------------------------------------------------------------
# The messages themselves
# ---------------------------------------------------------------------------------------------


def test_a_text_is_its_chinese_and_translates_the_template_before_filling_it():
    group = Text("老年人")
    text = Text("签约的{group}数", group=group)
    assert text == "签约的老年人数" and isinstance(text, str)
    seen = []

    def gettext(s: str) -> str:
        seen.append(s)
        return {"签约的{group}数": "{group}: signed", "老年人": "Elderly"}.get(s, s)

    assert text.translate(gettext, lambda s, p, n: s) == "Elderly: signed"
    assert seen == ["老年人", "签约的{group}数"]  # the template, never the filled-in text
    copy = pickle.loads(pickle.dumps(text))
    assert copy == text and copy.translate(gettext, lambda s, p, n: s) == "Elderly: signed"


def test_a_plural_text_needs_its_count():
    with pytest.raises(ValueError):
        Text("{n}天", "{n}天", count="days", n=1)
    one = Text("{n} day", "{n} days", count="n", n=1)
    assert one == "1 day" and Text("{n} day", "{n} days", count="n", n=3) == "3 days"


def test_every_catalogue_and_preset_message_is_a_text_with_an_english_translation():
    messages = _catalogue_messages() + _preset_messages()
    plain = [m for m in messages if not isinstance(m, Text)]
    assert plain and not any(CJK.search(m) for m in plain), plain  # e.g. "TARGETS.md gusu-2021"
    with translation.override("en"):
        for message in messages:
            for text in _texts(message):
                assert translation.gettext(text.msgid) != text.msgid, text.msgid
            english = selectors.tr(message)
            assert not CJK.search(english), (str(message), english)


def test_a_target_worded_like_its_indicator_reads_the_same_in_english():
    pairs = [(t.label, C.get(t.indicator)) for p in presets_mod.PRESETS.values() for t in p.targets
             if t.indicator and t.label == C.get(t.indicator).name]
    assert len(pairs) >= 4
    with translation.override("en"):
        for label, ind in pairs:
            assert selectors.tr(label) == selectors.indicator_text(ind).name == ind.name_en


def test_a_note_of_two_messages_translates_both():
    note = next(t.note for t in presets_mod.get("binhai-2019").targets if t.label == "实行镇村一体化管理的镇")
    assert note == "2020年底前全部实行；平台尚无相应数据（暂不可测量）"
    with translation.override("en"):
        assert selectors.tr(note) == "All by the end of 2020; No data on the platform yet (not measurable yet)"


def test_key_population_definitions_translate_their_group():
    ind = C.get("contract.coverage.special_fp_family")
    with translation.override("en"):
        text = selectors.indicator_text(ind)
    assert text.name == ind.name_en == "Contract coverage: Members of special family-planning families"
    assert text.numerator == "Members of special family-planning families: members with a contract"
    assert ind.name == "重点人群签约服务覆盖率：计划生育特殊家庭成员"  # the catalogue itself stays Chinese


def test_period_labels():
    codes = ["2025-03", "2025-Q1", "2025-YTD03", "2025"]
    with translation.override("zh-hans"):
        chinese = [selectors.tr(P.parse(c).label) for c in codes]
    assert chinese == ["2025年3月", "2025年第1季度", "2025年1-3月累计", "2025年"]
    with translation.override("en"):
        assert [selectors.tr(P.parse(c).label) for c in codes] == [
            "March 2025", "Q1 2025", "January–March 2025 (cumulative)", "2025"]


def test_numbers_of_months_and_days_take_the_plural_in_english():
    from jiayi.core.rulesets import Param
    from jiayi.indicators.facts import rule_context
    from jiayi.indicators.rules import INDICATORS_2017

    ctx = rule_context(date(2026, 1, 15))
    one = dataclasses.replace(ctx, indicators=INDICATORS_2017.derive(
        code="test-one-month", title="test", effective_from=INDICATORS_2017.effective_from,
        overrides={"record_use_window_months": Param(1, "L", "test")}))
    use = C.get("record.use_rate")
    with translation.override("en"):
        assert "in the last 1 month;" in selectors.tr(use.variant_text(one))
        assert "in the last 12 months;" in selectors.tr(use.variant_text(ctx))
        assert translation.ngettext("%(m)s个月", "%(m)s个月", 1) % {"m": 1} == "1 month"
        assert translation.ngettext("%(m)s个月", "%(m)s个月", 6) % {"m": 6} == "6 months"
        assert translation.ngettext("逾期%(n)s天", "逾期%(n)s天", 1) % {"n": 1} == "1 day overdue"
        assert translation.ngettext("已有%(n)s天血压升高", "已有%(n)s天血压升高", 2) % {"n": 2} == "Raised on 2 days"
        # 履约 is "fulfilment" everywhere in English.
        for msgid in ("履约率", "履约", "履约情况：约定与完成", "查看履约"):
            assert "ulfilment" in translation.gettext(msgid) and "elivery" not in translation.gettext(msgid)


# ---------------------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------------------


def _data_names() -> list[str]:
    """Names stored as data (units, staff, residents): they are shown as entered."""
    from jiayi.org.models import Area, Institution, Staff, Team
    from jiayi.residents.models import Resident

    names = set()
    for model in (Area, Institution, Staff, Team, Resident):
        names.update(model.objects.values_list("name", flat=True))
    return sorted((n for n in names if n), key=len, reverse=True)


def _main(html: str) -> str:
    return html[html.index("<main"):html.index("</main>")]


def _chinese_left(fragment: str, data: list[str]) -> list[str]:
    text = unescape(fragment)
    for name in data:
        text = text.replace(name, "")
    return [text[max(0, m.start() - 30):m.end() + 30] for m in CJK.finditer(text)]


def _english(client):
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/indicators/"}).status_code == 302


def test_the_indicator_pages_are_english_after_the_switch(computed, client):
    d = computed.d
    client.force_login(d.district_admin.user)
    _english(client)
    data = _data_names()

    r = client.get(f"/indicators/district/{d.commission.pk}/",
                   {"preset": "gusu-2021", "period": "2025", "indicator": "record.use_rate"})
    html = r.content.decode()
    assert 'lang="en"' in html
    assert _chinese_left(_main(html), data) == []
    assert "Gusu District, Suzhou: 2021 community health work plan" in html
    assert "Resident health-record coverage" in html and "Home sickbeds set up by year end" in html
    assert "No data on the platform yet (not measurable yet)" in html
    assert "Health-record use rate" in html and "in the last 12 months" in html
    labels = {row.target.label for row in r.context["target_rows"]}
    assert "Child health-record coverage" in labels and not any(CJK.search(label) for label in labels)
    assert {p["label"] for p in r.context["periods"]} >= {"2025", "December 2025"}
    chart = json.loads(re.search(r'id="ind-chart-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert not any(CJK.search(t["label"]) for t in chart["targets"]) and chart["targets"]
    assert chart["trend"]["name"] == "Health-record use rate"

    preset = client.get("/indicators/presets/binhai-2019/").content.decode()
    assert _chinese_left(_main(preset), data) == []
    assert "All by the end of 2020; No data on the platform yet (not measurable yet)" in preset
    assert "Binhai New Area, Tianjin: 2019 primary health care work plan" in preset
    presets = client.get("/indicators/presets/").content.decode()
    assert _chinese_left(_main(presets), data) == []

    cat = client.get("/indicators/catalogue/").content.decode()
    table = re.search(r'<table[^>]*data-testid="catalogue".*?</table>', cat, re.S).group(0)
    assert _chinese_left(table, data) == []
    assert "Contract fulfilment rate" in table and "Point value (end of period)" in table
    for title in re.findall(r"<h3>(.*?)<span", cat, re.S):
        assert not CJK.search(title), title
    assert "Appraisal indicator definitions" in cat
    assert "Full score at or above the target, proportional below it" in cat

    ll = client.get(f"/indicators/doctor/{d.station_doctor.pk}/ht.control_rate/residents/",
                    {"period": "2025", "status": "all"})
    assert [row.name for row in ll.context["rows"]] == ["郑七"]  # a name is data
    page = ll.content.decode()
    assert _chinese_left(_main(page), data) == []
    assert "Hypertension control rate" in page and "2025. Numerator:" in page


def test_a_districts_own_preset_keeps_its_words_in_english(computed, client):
    d = computed.d
    client.force_login(d.district_admin.user)
    r = client.post("/indicators/presets/", {"code": "local-2026", "title": "本区2026年考核", "year": "2026"})
    assert r.status_code == 302
    client.post("/indicators/presets/local-2026/", {
        "count": "1", "label-0": "本区建档率目标", "indicator-0": "record.rate", "target-0": "85", "mode-0": "egt",
        "weight-0": "1", "note-0": "区里自定"})
    _english(client)
    page = client.get("/indicators/presets/local-2026/").content.decode()
    assert "本区2026年考核" in page and "本区建档率目标" in page and "Health-record rate" in page
    dash = client.get(f"/indicators/district/{d.commission.pk}/", {"preset": "local-2026", "period": "2025"})
    assert [row.target.label for row in dash.context["target_rows"]] == ["本区建档率目标"]
    assert [row.target.note for row in dash.context["target_rows"]] == ["区里自定"]


def test_chinese_is_the_default(computed, client):
    d = computed.d
    client.force_login(d.district_admin.user)
    html = client.get(f"/indicators/district/{d.commission.pk}/", {"preset": "gusu-2021", "period": "2025"}
                      ).content.decode()
    assert 'lang="zh-CN"' in html
    assert "苏州市姑苏区 2021年社区卫生工作计划" in html and "居民健康档案建档率" in html and "2025年" in html
    assert "Gusu District" not in html and "Resident health-record coverage" not in html
    cat = client.get("/indicators/catalogue/").content.decode()
    assert "履约率" in cat and "时点值（统计期末）" in cat and "考核指标口径" in cat
    preset = client.get("/indicators/presets/binhai-2019/").content.decode()
    assert "2020年底前全部实行；平台尚无相应数据（暂不可测量）" in preset
