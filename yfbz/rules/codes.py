"""Stable codes shared by the engine, the database, notices and tests.

Scheme and group codes are those of POLICY.md. Reason codes are numbered once and
never renumbered: notices, reports and tests refer to them (cf. openIMIS
``REJECTION_REASON_*``). Add new codes at the end of their hundred.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Scheme(StrEnum):
    OUTPATIENT = "OUTPATIENT"
    INPATIENT = "INPATIENT"
    MAJOR_DISEASE = "MAJOR_DISEASE"
    LARGE_EXPENSE = "LARGE_EXPENSE"

    @property
    def zh(self) -> str:
        return SCHEME_ZH[self]

    @property
    def specificity(self) -> int:
        """D2 tie-break: major > large-expense > ordinary."""
        return _SPECIFICITY[self]


SCHEME_ZH = {
    Scheme.OUTPATIENT: "普通疾病门诊医疗救助",
    Scheme.INPATIENT: "普通疾病住院医疗救助",
    Scheme.MAJOR_DISEASE: "重特大疾病医疗救助",
    Scheme.LARGE_EXPENSE: "大额费用医疗救助",
}
_SPECIFICITY = {Scheme.MAJOR_DISEASE: 3, Scheme.LARGE_EXPENSE: 2, Scheme.INPATIENT: 1, Scheme.OUTPATIENT: 1}

#: Group code prefix -> the scheme its rules belong to.
GROUP_PREFIX_SCHEME = {
    "OUT": Scheme.OUTPATIENT,
    "IN": Scheme.INPATIENT,
    "MAJ": Scheme.MAJOR_DISEASE,
    "LRG": Scheme.LARGE_EXPENSE,
}
SUBSIDY_PREFIX = "SUB"
#: Group of the 优抚对象 of 52号 第二条; also the key of the veterans' subsidy in a caps-used mapping.
YOUFU = "YOUFU"
YOUFU_ZH = "优抚对象医疗补助"
#: Caps-used key of the year's remaining self-pay counted toward the veterans' subsidy's annual
#: threshold (晋 第八条 "个人负担较重部分"): a running total, not a cap.
YOUFU_BURDEN = "YOUFU_BURDEN"


class BillKind(StrEnum):
    INPATIENT = "INPATIENT"
    OUTPATIENT = "OUTPATIENT"


class Enrolment(StrEnum):
    RESIDENT_T1 = "RESIDENT_T1"
    RESIDENT_T2 = "RESIDENT_T2"
    EMPLOYEE_INDIVIDUAL = "EMPLOYEE_INDIVIDUAL"
    EMPLOYEE_EMPLOYER = "EMPLOYEE_EMPLOYER"


ENROLMENT_ZH = {
    Enrolment.RESIDENT_T1: "城乡居民医保一档",
    Enrolment.RESIDENT_T2: "城乡居民医保二档",
    Enrolment.EMPLOYEE_INDIVIDUAL: "以个人身份参加职工医保",
    Enrolment.EMPLOYEE_EMPLOYER: "随单位参加职工医保",
}


class Status(StrEnum):
    CONFIRMED = "confirmed"
    PROVISIONAL = "provisional"


def group_scheme(group: str) -> Scheme | None:
    """The assistance scheme a group code belongs to (None for SUB_* and YOUFU)."""
    return GROUP_PREFIX_SCHEME.get(group.split("_", 1)[0])


class Reason(IntEnum):
    # 1xx: medical assistance on a bill
    PAID = 100
    NO_IDENTITY_ON_DATE = 101
    NO_SCHEME_FOR_IDENTITY = 102
    CAP_USED_UP = 103
    CAP_LIMITED = 104
    NOTHING_LEFT_TO_PAY = 105
    NOT_IN_CATALOGUE = 106
    LARGE_BELOW_THRESHOLD = 107
    LARGE_LEVEL_TOO_LOW = 108
    LARGE_DISEASE_IN_CATALOGUE = 109
    LARGE_NOT_INPATIENT = 110
    OTHER_SCHEME_PAYS_MORE = 111
    TIE_MORE_SPECIFIC = 112
    PROVISIONAL_RULE = 113
    UNGRADED_AS_LEVEL_1 = 114
    BEST_OF_SEVERAL_IDENTITIES = 115
    NO_RULE_IN_FORCE = 116
    COMPARED_SCHEMES = 117
    NOT_DESIGNATED_INSTITUTION = 118
    CATEGORY_AGE_NOT_MET = 119
    # the area of the person's town on the date has no policy of its own (docs/areas.md)
    NO_POLICY_FOR_AREA = 130
    # 12x: 优抚对象医疗补助
    YOUFU_PAID = 120
    YOUFU_NO_CAP = 121
    YOUFU_CAP_USED_UP = 122
    YOUFU_NOTHING_REMAINS = 123
    YOUFU_CAP_LIMITED = 124
    YOUFU_INPATIENT_ONLY = 125
    YOUFU_BELOW_ANNUAL_THRESHOLD = 126
    # 2xx: contribution subsidy
    SUBSIDY_PAID = 200
    SUBSIDY_EMPLOYER_INSURED = 201
    SUBSIDY_NOT_ENROLLED = 202
    SUBSIDY_NO_QUALIFYING_IDENTITY = 203
    SUBSIDY_NO_STANDARD = 204
    SUBSIDY_PROVISIONAL_STANDARD = 205
    SUBSIDY_NO_RULE_FOR_ENROLMENT = 206
    SUBSIDY_AGE_NOT_MET = 207
    SUBSIDY_NO_POLICY_FOR_AREA = 208
    # 3xx: employees' outpatient pooling (渝医保发〔2023〕32号)
    POOLING_PAID = 300
    POOLING_DEDUCTIBLE_NOT_REACHED = 301
    POOLING_LIMIT_USED_UP = 302
    POOLING_LIMIT_REACHED = 303
    POOLING_FIXED_ITEMS_EXCLUDED = 304
    POOLING_PRESCRIBER_LEVEL = 305

    @property
    def zh(self) -> str:
        return REASON_ZH[self]

    @property
    def label(self) -> str:
        """'R103 年度救助限额已用完' — the form used in outputs and on notices."""
        return f"R{self.value} {REASON_ZH[self]}"


REASON_ZH: dict[Reason, str] = {
    Reason.PAID: "按规定给予医疗救助",
    Reason.NO_IDENTITY_ON_DATE: "结算日无有效的医疗救助对象身份",
    Reason.NO_SCHEME_FOR_IDENTITY: "所持身份不享受该项医疗救助",
    Reason.CAP_USED_UP: "本年度该项救助限额已用完",
    Reason.CAP_LIMITED: "按本年度该项救助限额的剩余部分支付",
    Reason.NOTHING_LEFT_TO_PAY: "经基本医保、大病保险报销后无政策范围内自付费用",
    Reason.NOT_IN_CATALOGUE: "疾病不在重特大疾病救助目录内",
    Reason.LARGE_BELOW_THRESHOLD: "单次住院政策范围内费用未超过大额费用救助起点",
    Reason.LARGE_LEVEL_TOO_LOW: "就诊医疗机构低于大额费用救助要求的等级",
    Reason.LARGE_DISEASE_IN_CATALOGUE: "疾病属于重特大疾病救助目录，不适用大额费用救助",
    Reason.LARGE_NOT_INPATIENT: "大额费用救助仅适用于单次住院",
    Reason.OTHER_SCHEME_PAYS_MORE: "其他救助方案金额更高，未采用",
    Reason.TIE_MORE_SPECIFIC: "金额相同，按更具体的救助方案（重特大疾病>大额费用>普通疾病）",
    Reason.PROVISIONAL_RULE: "适用的规则为暂行规则，数额待确认",
    Reason.UNGRADED_AS_LEVEL_1: "未定级医疗机构按一级医疗机构计算",
    Reason.BEST_OF_SEVERAL_IDENTITIES: "多重身份，按待遇最优的身份计算",
    Reason.NO_RULE_IN_FORCE: "结算日无有效的救助规则",
    Reason.COMPARED_SCHEMES: "符合多个救助方案，按救助金额最高的方案计算，不重复救助",
    Reason.NOT_DESIGNATED_INSTITUTION: "就诊医疗机构在结算日不是定点医疗机构，不适用重特大疾病医疗救助",
    Reason.CATEGORY_AGE_NOT_MET: "结算日不符合所持身份类别的年龄条件",
    Reason.NO_POLICY_FOR_AREA: "结算日所在镇街的区域尚无本局医疗救助政策，未按其他区域的标准核定",
    Reason.SUBSIDY_NO_POLICY_FOR_AREA: "年末所在镇街的区域尚无本局资助参保政策，未按其他区域的标准核定",
    Reason.YOUFU_PAID: "按规定给予优抚对象医疗补助",
    Reason.YOUFU_NO_CAP: "优抚对象医疗补助年度限额尚未设定，暂不启用",
    Reason.YOUFU_CAP_USED_UP: "本年度优抚对象医疗补助限额已用完",
    Reason.YOUFU_NOTHING_REMAINS: "前序报销和救助后无需补助的自付费用",
    Reason.YOUFU_CAP_LIMITED: "按本年度优抚对象医疗补助限额的剩余部分支付",
    Reason.YOUFU_INPATIENT_ONLY: "优抚对象医疗补助仅适用于住院费用",
    Reason.YOUFU_BELOW_ANNUAL_THRESHOLD: "本年度累计自付费用未超过优抚对象医疗补助年度起付额",
    Reason.SUBSIDY_PAID: "按规定资助参保",
    Reason.SUBSIDY_EMPLOYER_INSURED: "随单位参加职工医保，不予资助",
    Reason.SUBSIDY_NOT_ENROLLED: "当年未参保（漏保、断保），无法资助",
    Reason.SUBSIDY_NO_QUALIFYING_IDENTITY: "当年无享受资助参保的身份",
    Reason.SUBSIDY_NO_STANDARD: "当年个人缴费标准尚未录入",
    Reason.SUBSIDY_PROVISIONAL_STANDARD: "个人缴费标准为暂定数，待确认",
    Reason.SUBSIDY_NO_RULE_FOR_ENROLMENT: "所持身份在该参保方式下不予资助",
    Reason.SUBSIDY_AGE_NOT_MET: "当年持有该身份期间均不符合身份类别的年龄条件",
    Reason.POOLING_PAID: "按职工医保普通门诊统筹报销",
    Reason.POOLING_DEDUCTIBLE_NOT_REACHED: "未超过年度起付标准",
    Reason.POOLING_LIMIT_USED_UP: "年度普通门诊统筹支付限额已用完",
    Reason.POOLING_LIMIT_REACHED: "按年度支付限额的剩余部分支付",
    Reason.POOLING_FIXED_ITEMS_EXCLUDED: "定额报销项目不计入普通门诊统筹",
    Reason.POOLING_PRESCRIBER_LEVEL: "药店外配处方按开具处方医疗机构的等级结算",
}
assert set(REASON_ZH) == set(Reason)

#: The document and clause behind each reason code that can refuse or limit a payment: a refusal
#: notice prints every refusal reason with this basis (GB/T 9704 body), and pages show it beside the
#: code's label. Data, not logic: a district with other documents replaces the texts.
DOC_2025_2 = "渝北府办发〔2025〕2号"
DOC_52 = "渝退役军人局〔2022〕52号"
DOC_JIN = "晋退役军人规〔2024〕2号"
DOC_32 = "渝医保发〔2023〕32号"
REASON_BASIS: dict[Reason, str] = {
    Reason.NO_IDENTITY_ON_DATE: f"{DOC_2025_2} 三(一)（医疗救助对象实行动态管理，不再符合条件的人员取消救助资格）",
    Reason.NO_SCHEME_FOR_IDENTITY: f"{DOC_2025_2} 二(三)至(六)（各项医疗救助的救助对象范围）",
    Reason.CAP_USED_UP: f"{DOC_2025_2} 二(三)至(六)（年救助限额，救助限额当年有效）",
    Reason.CAP_LIMITED: f"{DOC_2025_2} 二(三)至(六)（年救助限额，救助限额当年有效）",
    Reason.NOTHING_LEFT_TO_PAY: f"{DOC_2025_2} 二(三)(四)（经基本医保、大病保险报销后的政策范围内自付费用）",
    Reason.NOT_IN_CATALOGUE: f"{DOC_2025_2} 二(五)（纳入特殊疾病医疗救助范围的26类疾病）",
    Reason.LARGE_BELOW_THRESHOLD: f"{DOC_2025_2} 二(六)（一次性住院政策范围内费用超过3万元）",
    Reason.LARGE_LEVEL_TOO_LOW: f"{DOC_2025_2} 二(六)（在二级及以上医疗机构住院）",
    Reason.LARGE_DISEASE_IN_CATALOGUE: f"{DOC_2025_2} 二(六)（患重特大疾病以外的其他疾病）",
    Reason.LARGE_NOT_INPATIENT: f"{DOC_2025_2} 二(六)（一次性住院发生的费用）",
    Reason.NO_RULE_IN_FORCE: f"{DOC_2025_2} 二（医疗救助待遇标准，按结算日有效的规定执行）",
    Reason.NOT_DESIGNATED_INSTITUTION: f"{DOC_2025_2} 二(五)（在定点医疗机构发生的住院或门诊费用）",
    Reason.NO_POLICY_FOR_AREA: (f"{DOC_2025_2} 二（本区医疗救助政策，结合本区实际制定，不适用于其他区域）；"
                                "区划调整过渡期按结算日所在镇街所属区域的政策执行（该区域政策录入后重新核定）"),
    Reason.SUBSIDY_NO_POLICY_FOR_AREA: "区划调整过渡期：按年末所在镇街所属区域的政策执行（该区域政策录入后重新计算）",
    Reason.CATEGORY_AGE_NOT_MET: f"{DOC_52} 第二条（60周岁以上农村籍退役人员），年龄按结算日计算",
    Reason.YOUFU_NO_CAP: f"{DOC_52} 第八条（优抚对象医疗补助标准由区县确定）",
    Reason.YOUFU_CAP_USED_UP: f"{DOC_52} 第八条（优抚对象医疗补助年度限额）",
    Reason.YOUFU_NOTHING_REMAINS: f"{DOC_52} 第八条（经基本医保、大病保险、医疗救助后个人负担的医疗费用）",
    Reason.YOUFU_CAP_LIMITED: f"{DOC_52} 第八条（优抚对象医疗补助年度限额）",
    Reason.YOUFU_INPATIENT_ONLY: f"{DOC_JIN} 第八条（优抚对象住院发生的符合规定的医疗费用）",
    Reason.YOUFU_BELOW_ANNUAL_THRESHOLD: f"{DOC_JIN} 第八条（个人负担较重部分医疗费用）",
    Reason.SUBSIDY_EMPLOYER_INSURED: f"{DOC_2025_2} 二(一)(二)（资助参加城乡居民医保或以个人身份参加职工医保）",
    Reason.SUBSIDY_NOT_ENROLLED: f"{DOC_2025_2} 三(二)（资助参保期内通过税务系统缴费）",
    Reason.SUBSIDY_NO_QUALIFYING_IDENTITY: f"{DOC_2025_2} 二(一)(二)（资助参保对象范围）；{DOC_52} 第五条",
    Reason.SUBSIDY_NO_STANDARD: f"{DOC_2025_2} 二(一)(二)（按当年个人缴费标准资助）",
    Reason.SUBSIDY_NO_RULE_FOR_ENROLMENT: f"{DOC_2025_2} 二(一)(二)（资助标准按参保档次确定）",
    Reason.SUBSIDY_AGE_NOT_MET: f"{DOC_2025_2} 二(一)；{DOC_52} 第二条（年度内任一日持有身份且当日符合年龄条件）",
    Reason.POOLING_DEDUCTIBLE_NOT_REACHED: f"{DOC_32} 第四条（年度起付标准）",
    Reason.POOLING_LIMIT_USED_UP: f"{DOC_32} 第六条（年度支付限额）",
    Reason.POOLING_LIMIT_REACHED: f"{DOC_32} 第六条（年度支付限额）",
    Reason.POOLING_FIXED_ITEMS_EXCLUDED: f"{DOC_32} 第六条（定额报销项目不计入）",
}

#: Reason codes of a bill that say why nothing (or nothing more) is paid: the ones a refusal notice lists.
#: The others (paid, compared schemes, best of several identities …) explain a payment, never a refusal.
REFUSING_REASONS: frozenset[Reason] = frozenset({
    Reason.NO_IDENTITY_ON_DATE, Reason.NO_SCHEME_FOR_IDENTITY, Reason.CAP_USED_UP, Reason.NOTHING_LEFT_TO_PAY,
    Reason.NOT_IN_CATALOGUE, Reason.LARGE_BELOW_THRESHOLD, Reason.LARGE_LEVEL_TOO_LOW,
    Reason.LARGE_DISEASE_IN_CATALOGUE, Reason.LARGE_NOT_INPATIENT, Reason.NO_RULE_IN_FORCE,
    Reason.NOT_DESIGNATED_INSTITUTION, Reason.CATEGORY_AGE_NOT_MET, Reason.NO_POLICY_FOR_AREA,
})
assert REFUSING_REASONS <= set(REASON_BASIS)

#: The reasons a reviewer refuses a bill for (不予救助, claims.services.decision_refuse), each with its
#: Chinese label and its legal basis (document and clause): the refusal notice prints both, then the
#: reviewer's own words. code → (label, basis).
REFUSAL_REASONS: dict[str, tuple[str, str]] = {
    "DUPLICATE": (
        "重复申请：该笔医疗费用已申请过医疗救助，同一费用不重复救助",
        f"{DOC_2025_2} 二(三)至(六)（对经基本医保、大病保险报销后的政策范围内自付费用给予一次救助）",
    ),
    "PAID_ONE_STOP": (
        "该笔医疗费用已在定点医疗机构“一站式”结算中给予救助",
        f"{DOC_2025_2} 三(三)（医疗救助与医疗保险“一站式”同步结算，市外就医费用方可手工报销）",
    ),
    "PAPERS_NOT_GENUINE": (
        "所提交的票据或材料经核查不真实（非原件或无法核实）",
        "《社会救助暂行办法》（国务院令第649号）第六十八条",
    ),
    "NOT_ELIGIBLE": (
        "经核查，就医时不符合医疗救助对象条件",
        f"{DOC_2025_2} 三(一)（医疗救助对象实行动态管理，不再符合条件的人员取消救助资格）",
    ),
    "NOT_IN_POLICY": (
        "所报费用不属于医疗保险政策范围内的自付费用",
        f"{DOC_2025_2} 二(三)至(六)（属于医疗保险政策范围内的自付费用）",
    ),
}
