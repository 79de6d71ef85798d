"""Importing enrolment from the insurance system's export (xlsx): every row is checked first; one bad
row refuses the whole file with the row and field named, so nothing is half-applied."""

from __future__ import annotations

import io

from django.db import transaction
from openpyxl import load_workbook

from beneficiaries.models import Person
from yfbz.rules.idcard import IdNumberError, parse_id_number

from ..models import Enrolment, EnrolmentKind
from .errors import FundingError
from .subsidies import log_bulk

HEADERS = {"公民身份号码": "id_number", "身份证号码": "id_number", "姓名": "name", "参保类型": "kind", "参保档次": "kind",
           "是否自行缴费": "self_paid"}
KIND_BY_LABEL = {label: code for code, label in EnrolmentKind.choices} | {code: code for code in EnrolmentKind.values} | {
    "居民一档": EnrolmentKind.RESIDENT_T1, "居民二档": EnrolmentKind.RESIDENT_T2, "一档": EnrolmentKind.RESIDENT_T1,
    "二档": EnrolmentKind.RESIDENT_T2, "灵活就业": EnrolmentKind.EMPLOYEE_INDIVIDUAL, "职工（个人）": EnrolmentKind.EMPLOYEE_INDIVIDUAL,
    "职工（单位）": EnrolmentKind.EMPLOYEE_EMPLOYER,
}
MAX_ERRORS_SHOWN = 20


def enrolment_import(*, year: int, data: bytes, user, source: str = "参保系统导出") -> int:
    from yfbz.core.uploads import UploadRefused, check_data

    try:  # xlsx only, and not a hostile one (issue 9)
        check_data("参保数据", data, "enrolment", allow_csv=False)
    except UploadRefused as exc:
        raise FundingError(str(exc)) from None
    try:
        ws = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception:  # noqa: BLE001 - any unreadable file gets the same answer
        raise FundingError("无法读取该文件，请上传 .xlsx 格式的参保数据") from None
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    cols = {HEADERS[str(h).strip()]: i for i, h in enumerate(header) if h is not None and str(h).strip() in HEADERS}
    missing = [zh for zh, key in (("公民身份号码", "id_number"), ("姓名", "name"), ("参保类型", "kind")) if key not in cols]
    if missing:
        raise FundingError(f"第1行（表头）缺少列：{'、'.join(missing)}")
    people = dict(Person.objects.visible_to(user).values_list("id_number", "pk"))
    names = {}
    parsed, errors, seen = [], [], {}
    for n, row in enumerate(rows, start=2):
        def cell(key, row=row):
            v = row[cols[key]] if cols.get(key) is not None and cols[key] < len(row) else None
            return "" if v is None else str(v).strip()
        raw_id, name, raw_kind = cell("id_number"), cell("name"), cell("kind")
        if not (raw_id or name or raw_kind):
            continue
        try:
            idn = parse_id_number(raw_id).number
        except IdNumberError as exc:
            errors.append(f"第{n}行 公民身份号码「{raw_id}」：{exc}")
            continue
        pk = people.get(idn)
        if pk is None:
            errors.append(f"第{n}行 公民身份号码「{raw_id}」：系统中无此人员（或不在您的管辖范围）")
            continue
        kind = KIND_BY_LABEL.get(raw_kind)
        if kind is None:
            errors.append(f"第{n}行 参保类型「{raw_kind}」：无法识别，应为{'、'.join(EnrolmentKind.labels)}之一")
            continue
        if idn in seen:
            errors.append(f"第{n}行 公民身份号码「{raw_id}」：与第{seen[idn]}行重复")
            continue
        seen[idn] = n
        names[pk] = (n, name)
        parsed.append(Enrolment(person_id=pk, year=year, kind=kind, self_paid=cell("self_paid") in ("是", "1", "Y", "y", "TRUE", "True"),
                                source=source[:60], updated_by=user))
    if names:
        stored = dict(Person.objects.filter(pk__in=list(names)).values_list("pk", "name"))
        for pk, (n, name) in names.items():
            if name and stored.get(pk) != name:
                errors.append(f"第{n}行 姓名「{name}」：与系统中该身份证号的姓名「{stored.get(pk)}」不一致")
    if errors:
        more = f"（另有{len(errors) - MAX_ERRORS_SHOWN}处错误未列出）" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise FundingError(f"文件有{len(errors)}处错误，未导入任何数据：" + "；".join(sorted(errors, key=_row_no)[:MAX_ERRORS_SHOWN]) + more)
    if not parsed:
        raise FundingError("文件中没有数据行")
    with transaction.atomic():
        Enrolment.objects.bulk_create(parsed, batch_size=5000, update_conflicts=True, unique_fields=["person", "year"],
                                      update_fields=["kind", "self_paid", "source", "updated_by"])
        log_bulk(Enrolment, user=user, object_repr=f"{year}年参保数据导入", summary={"行数": len(parsed), "来源": source})
    return len(parsed)


def _row_no(message: str) -> int:
    return int(message[1:message.index("行")])
