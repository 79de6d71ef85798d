"""The Chinese explanation read aloud to the person and printed on the notice."""

from yfbz.rules import Scheme

from .helpers import YOUFU_CAP_2000, D, bill, decide, person, policy


def test_explanation_names_the_layer_identity_rate_rule_and_cap_left():
    d = decide(person("TEKUN"), bill(level=2, in_policy="14000.00", basic="9000.00"))
    text = d.explain_zh()
    for part in (
        "政策范围内个人自付5000.00元",
        "“特困人员”身份",
        "普通疾病住院医疗救助4000.00元",
        "二级医疗机构",
        "救助比例80%",
        "渝北府办发〔2025〕2号 二(四)",
        "剩余6000.00元",
        "仍需自付政策范围内费用1000.00元",
    ):
        assert part in text, part
    assert 3 <= len(text.splitlines()) <= 8


def test_explanation_of_a_capped_amount_says_what_the_ratio_would_have_given():
    d = decide(
        person("TEKUN"), bill(level=3, in_policy="26000.00", basic="15000.00"), {"INPATIENT": D("4000.00")}
    )
    assert "按比例应为8250.00元，受年度限额所限" in d.explain_zh()


def test_explanation_mentions_other_schemes_compared():
    d = decide(person("CANZHAN"), bill(level=3, in_policy="40000.00", basic="30000.00"))
    assert d.scheme == Scheme.LARGE_EXPENSE and "经比较" in d.explain_zh() and "不重复救助" in d.explain_zh()


def test_explanation_shows_the_youfu_line_when_paid():
    d = decide(
        person("BINGGU_YISHU"),
        bill(level=2, in_policy="10000.00", basic="6000.00"),
        pol=policy(overrides=YOUFU_CAP_2000),
    )
    assert "优抚对象医疗补助：对救助后剩余自付1000.00元按50%补助500.00元" in d.explain_zh()


def test_layers_carry_scheme_identity_ratio_and_cap_left():
    d = decide(person("TEKUN"), bill(level=2, in_policy="14000.00", basic="9000.00"))
    a = d.layers()[2]
    assert (a.scheme, a.category, a.ratio, a.base, a.amount, a.cap_left) == (
        "INPATIENT",
        "TEKUN",
        D("0.80"),
        D("5000.00"),
        D("4000.00"),
        D("6000.00"),
    )
    assert d.policy_version == policy().version


def test_a_decision_serialises_to_json_for_storage():
    import json

    d = decide(
        person("DIBAO_BIANYUAN"), bill(level=3, in_policy="20000.00", basic="10000.00", disease="肺癌")
    )
    data = json.loads(json.dumps(d.to_dict(), ensure_ascii=False))
    assert (
        data["scheme"] == "MAJOR_DISEASE"
        and data["amount"] == "7000.00"
        and data["policy_version"] == d.policy_version
    )
    assert data["provisional"][0]["status"] == "provisional" and 113 in data["reasons"]
    assert "重特大疾病医疗救助7000.00元" in data["explanation"]
