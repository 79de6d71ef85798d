"""Importing enrolment from the insurance system's export (xlsx or CSV, through the one reader:
title rows, header wordings, docs/files.md): every row is checked first; one bad row refuses the
whole file with the row and field named, so nothing is half-applied."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from beneficiaries.models import Person
from yfbz.core.uploads import UploadRefused, check_data
from yfbz.files.cells import id_number_text, parse_yes_no
from yfbz.files.formats import ENROLMENT
from yfbz.files.reader import FileUnreadable, normalise_text, read_table
from yfbz.rules.idcard import IdNumberError, parse_id_number

from ..models import Enrolment, EnrolmentKind, SubsidyRoute
from .errors import FundingError
from .subsidies import log_bulk

KIND_BY_LABEL = {label: code for code, label in EnrolmentKind.choices} | {code: code for code in EnrolmentKind.values} | {
    "居民一档": EnrolmentKind.RESIDENT_T1, "居民二档": EnrolmentKind.RESIDENT_T2, "一档": EnrolmentKind.RESIDENT_T1,
    "二档": EnrolmentKind.RESIDENT_T2, "灵活就业": EnrolmentKind.EMPLOYEE_INDIVIDUAL, "职工（个人）": EnrolmentKind.EMPLOYEE_INDIVIDUAL,
    "职工(个人)": EnrolmentKind.EMPLOYEE_INDIVIDUAL, "职工（单位）": EnrolmentKind.EMPLOYEE_EMPLOYER,
    "职工(单位)": EnrolmentKind.EMPLOYEE_EMPLOYER,
}
MAX_ERRORS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class EnrolmentImported:
    count: int
    reading: dict  # the header row, columns used and ignored (yfbz.files.reader)
    kept_self_paid: int = 0  # rows saying 否 for a person whose route (b) subsidy is approved: kept 是


def enrolment_import(*, year: int, data: bytes, user, source: str = "参保系统导出") -> EnrolmentImported:
    try:  # xlsx or CSV only, and not a hostile one (issue 9)
        check_data("参保数据", data, "enrolment")
    except UploadRefused as exc:
        raise FundingError(str(exc)) from None
    try:
        table = read_table(data, ENROLMENT)
    except FileUnreadable as exc:
        raise FundingError(f"参保数据文件无法读取：{exc}") from None
    label = ENROLMENT.labels
    people = dict(Person.objects.visible_to(user).values_list("id_number", "pk"))
    names = {}
    parsed, errors, seen = [], [], {}
    for n, row in table.rows:
        def cell(key, row=row):
            i = table.columns.get(key)
            return row[i] if i is not None and i < len(row) else None

        raw_kind = normalise_text(str(cell("kind") or ""))
        name = normalise_text(str(cell("name") or ""))
        try:
            idn = parse_id_number(id_number_text(cell("id_number"))).number
        except (IdNumberError, ValueError) as exc:
            errors.append(f"第{n}行 {label['id_number']}「{cell('id_number') or ''}」：{exc}")
            continue
        pk = people.get(idn)
        if pk is None:
            errors.append(f"第{n}行 {label['id_number']}「{idn}」：系统中无此人员（或不在您的管辖范围）")
            continue
        kind = KIND_BY_LABEL.get(raw_kind)
        if kind is None:
            errors.append(f"第{n}行 {label['kind']}「{raw_kind}」：无法识别，应为{'、'.join(EnrolmentKind.labels)}之一")
            continue
        try:
            self_paid = parse_yes_no(cell("self_paid"))
        except ValueError as exc:
            errors.append(f"第{n}行 {label['self_paid']}：{exc}")
            continue
        if idn in seen:
            errors.append(f"第{n}行 {label['id_number']}「{idn}」：与第{seen[idn]}行重复")
            continue
        seen[idn] = n
        names[pk] = (n, name)
        parsed.append(Enrolment(person_id=pk, year=year, kind=kind, self_paid=self_paid, source=source[:60], updated_by=user))
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
        # a person whose route (b) subsidy is approved stays self-paid: an import never puts them on the
        # town's tax list as well (issue 10, finding 2)
        kept = Enrolment.objects.filter(
            year=year, self_paid=False,
            person_id__in=SubsidyRoute.objects.filter(year=year, route=SubsidyRoute.Route.SELF_PAID).values("person_id"),
        ).update(self_paid=True)
        log_bulk(Enrolment, user=user, object_repr=f"{year}年参保数据导入",
                 summary={"行数": len(parsed), "来源": source, "保留已审核自缴标记": kept})
    return EnrolmentImported(len(parsed), table.reading, kept)


def _row_no(message: str) -> int:
    return int(message[1:message.index("行")])
