"""The one reader (yfbz.files.reader): header found among the first 10 rows, headers mapped through
built-in and staff's wordings, the spreadsheet's own row numbers, columns used and ignored, a clear
message when no header is found; xlsx and CSV in UTF-8, UTF-8 with BOM and GBK."""

import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from yfbz.files.formats import FORMATS, ROSTER, TAX_DETAIL
from yfbz.files.models import HeaderAlias
from yfbz.files.reader import FileUnreadable, header_key, read_table

TAX_HEADER = ["序号", "人员编号", "姓名", "身份证件类型", "身份证件号码", "街道乡镇", "代缴类别", "代缴金额", "个人缴费日期"]
TAX_ROW = [1, "50011200000001", "张三", "居民身份证（户口簿）", "500112196005011002", "双龙湖街道", "特困人员", 400, "2025-01-15"]


def xlsx(*rows, title_rows=(), sheets=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    for t in title_rows:
        ws.append([t])
    for r in rows:
        ws.append(list(r))
    for name, extra in (sheets or {}).items():
        other = wb.create_sheet(name)
        for r in extra:
            other.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rows_of(table):
    return list(table.rows)


def test_an_xlsx_with_two_title_rows_is_read_from_the_header_on_row_3_with_the_spreadsheets_row_numbers():
    data = xlsx(TAX_HEADER, TAX_ROW, [2, *TAX_ROW[1:4], "500112196005011010", *TAX_ROW[5:]],
                title_rows=("重庆市渝北区城乡居民医保税务代缴明细", "制表单位：国家税务总局重庆市渝北区税务局　2025年1月"))
    table = read_table(data, TAX_DETAIL, extra={})
    assert table.header_row == 3
    rows = rows_of(table)
    assert [n for n, _ in rows] == [4, 5]
    assert rows[0][1][table.columns["id_number"]] == "500112196005011002"
    assert rows[0][1][table.columns["category"]] == "特困人员"
    assert table.ignored == []
    assert {"header": "身份证件号码", "column": "身份证件号码"} in table.used
    assert "表头在第3行" in table.describe()


def test_columns_not_used_are_named_and_a_second_header_of_one_column_loses_to_the_better_wording():
    header = ["结算id", "身份证号", "姓名", "医保就诊类别", "出院日期", "结算日期", "符合医保报销金额", "基本医疗保险报销金额",
              "医疗救助", "清算期", "就诊地"]
    data = xlsx(header, ["J1", "500112196005011002", "张三", "住院", "2025-03-02", "2025-03-03", 1000, 500, 100, "202503", "渝北"])
    table = read_table(data, FORMATS["settlement"], extra={})
    assert header[table.columns["settled_on"]] == "结算日期"
    assert table.ignored == ["出院日期（与“结算日期”重复）", "就诊地"]  # 清算期 is used (issue 18, third round)
    assert {"header": "医疗救助", "column": "医疗救助垫付"} in table.used
    assert "未使用的列：出院日期（与“结算日期”重复）、就诊地" in table.describe()


def test_leading_blank_rows_keep_the_spreadsheets_row_numbers():
    wb = Workbook()
    ws = wb.active
    ws["B3"] = "2025年3月低保名单"
    for col, h in zip("BCDE", ["身份证号", "姓名", "身份类别", "所属镇街"], strict=True):
        ws[f"{col}5"] = h
    for col, v in zip("BCDE", ["500112196005011002", "张三", "低保", "双龙湖"], strict=True):
        ws[f"{col}7"] = v
    buf = io.BytesIO()
    wb.save(buf)
    table = read_table(buf.getvalue(), ROSTER, extra={})
    assert table.header_row == 5
    assert [n for n, _ in rows_of(table)] == [7]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_utf8_with_bom_and_gbk_with_a_title_row(encoding):
    text = "2025年3月 低保名单,,,\n身份证号码,姓名,救助类别,乡镇（街道）\n500112196005011002,张·三,城市低保,双龙湖\n\n500112196005011010,李四,低保,回兴\n"
    table = read_table(text.encode(encoding), ROSTER, extra={})
    assert table.header_row == 2
    rows = rows_of(table)
    assert [n for n, _ in rows] == [3, 5]
    assert rows[0][1][table.columns["name"]] == "张·三"


def test_a_tab_separated_export_is_read_too():
    text = "身份证号\t姓名\t身份类别\t镇街\n500112196005011002\t张三\t低保\t回兴\n"
    table = read_table(text.encode("gbk"), ROSTER, extra={})
    assert rows_of(table)[0][1] == ["500112196005011002", "张三", "低保", "回兴"]


def test_headers_match_across_full_width_spaces_a_star_and_a_yuan_unit():
    assert header_key("＊身份证号 ") == header_key("身份证号")
    assert header_key("费用总额（元）") == header_key("费用总额") == header_key("费用总额(元)")
    assert header_key("结算ID") == header_key("结算id")
    data = xlsx(["*身份证号", "姓 名", "身份类别", "所属镇街（街道）", "镇街"], ["500112196005011002", "张三", "低保", "x", "回兴"])
    table = read_table(data, ROSTER, extra={})
    assert table.columns["name"] == 1 and table.columns["town"] == 4


def test_a_closing_total_row_is_skipped_and_said():
    data = xlsx(TAX_HEADER, TAX_ROW, ["合计", None, None, None, None, None, None, 400, None])
    table = read_table(data, TAX_DETAIL, extra={})
    assert [n for n, _ in rows_of(table)] == [2]
    assert table.skipped == [3]
    assert "合计行已跳过：第3行" in table.describe()


def test_the_header_is_found_on_a_later_sheet_when_the_first_holds_instructions():
    data = xlsx(["填表说明：请勿修改表头"], ["第二页为明细"], sheets={"明细": [TAX_HEADER, TAX_ROW]})
    table = read_table(data, TAX_DETAIL, extra={})
    assert table.sheet == "明细"
    assert [n for n, _ in rows_of(table)] == [2]


def test_a_file_without_the_header_names_the_columns_expected_and_the_first_rows_seen():
    data = xlsx(["序号", "名字", "证件号", "类别"], [1, "张三", "500112196005011002", "低保"], title_rows=("2025年3月名单",))
    with pytest.raises(FileUnreadable) as caught:
        read_table(data, ROSTER, extra={})
    msg = str(caught.value)
    assert "找不到表头" in msg and "前10行" in msg
    assert "身份证号（也可写作：身份证号码、公民身份号码" in msg
    assert "身份类别（也可写作：人员类别" in msg and "所属镇街" in msg
    assert "第1行：2025年3月名单" in msg
    assert "第2行：序号 | 名字 | 证件号 | 类别" in msg
    assert "第3行：1 | 张三 | 500112196005011002 | 低保" in msg
    assert "表头写法" in msg  # where the administrator adds a wording


def test_the_row_most_like_a_header_says_what_it_lacks():
    data = xlsx(["身份证号", "姓名", "所属镇街"], ["500112196005011002", "张三", "回兴"])
    with pytest.raises(FileUnreadable) as caught:
        read_table(data, ROSTER, extra={})
    assert "第1行最像表头，但缺少：身份类别" in str(caught.value)


def test_the_header_must_be_within_the_first_10_rows():
    title = [[f"说明{i}"] for i in range(10)]
    data = xlsx(*title, ["身份证号", "姓名", "身份类别", "所属镇街"], ["500112196005011002", "张三", "低保", "回兴"])
    with pytest.raises(FileUnreadable, match="找不到表头"):
        read_table(data, ROSTER, extra={})


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "文件为空"),
        ("身份证号,姓名,身份类别,镇街\n".encode(), "只有表头（第1行）"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版Excel"),
        (b"PK\x03\x04 not really a zip", "Excel"),
        (b"%PDF-1.4\x00\x01", "不是Excel或CSV"),
    ],
    ids=["empty", "header-only", "xls", "broken-zip", "pdf"],
)
def test_an_unreadable_file_says_why(data, words):
    with pytest.raises(FileUnreadable, match=words):
        read_table(data, ROSTER, extra={})


@pytest.mark.django_db
def test_a_wording_staff_added_is_used_after_the_built_in_ones():
    data = xlsx(TAX_HEADER[:6] + ["参保资助类型", "代缴金额"], TAX_ROW[:6] + ["特困人员", 400])
    with pytest.raises(FileUnreadable, match="缺少：代缴类别"):
        read_table(data, TAX_DETAIL)
    HeaderAlias.objects.create(kind="tax_detail", column="category", wording="参保资助类型")
    table = read_table(data, TAX_DETAIL)
    assert {"header": "参保资助类型", "column": "代缴类别"} in table.used
    assert "参保资助类型（也可写作" not in str(table.reading)


@pytest.mark.django_db
def test_a_wording_cannot_be_given_to_two_columns_of_one_file():
    alias = HeaderAlias(kind="tax_detail", column="category", wording="姓名")
    with pytest.raises(ValidationError, match="已是税务代缴明细“姓名”列的写法"):
        alias.full_clean()
    HeaderAlias.objects.create(kind="tax_detail", column="category", wording="资助人员类别")
    with pytest.raises(ValidationError):
        HeaderAlias(kind="tax_detail", column="amount", wording="资助人员类别 ").full_clean()
    with pytest.raises(ValidationError, match="没有这一列"):
        HeaderAlias(kind="tax_detail", column="nonsense", wording="某列").full_clean()


def test_every_format_has_distinct_wordings_within_itself():
    for fmt in FORMATS.values():
        seen = {}
        for col in fmt.columns:
            for w in col.wordings:
                key = header_key(w)
                assert seen.setdefault(key, col.key) == col.key, (fmt.kind, w)
