"""xlsx exports. They take a queryset already scoped by the caller (visible_to)."""

from yfbz.core.pii import mask
from yfbz.core.spreadsheets import SafeWorkbook


def people_xlsx(people, full: bool = False) -> bytes:
    """ID and phone numbers masked unless ``full`` (asked for on purpose and recorded: yfbz.core.pii)."""
    m = str if full else mask
    wb = SafeWorkbook()
    ws = wb.create_sheet("人员")
    ws.append(["公民身份号码", "姓名", "性别", "出生日期", "所属镇街", "村（社区）", "联系电话"])
    for p in people.iterator(chunk_size=2000):
        ws.append([m(p.id_number), p.name, p.get_sex_display(), p.birth_date, p.town.name if p.town else "", p.village, m(p.phone)])
    return wb.to_bytes()


def roster_issues_xlsx(upload, rows, full: bool = False) -> bytes:
    """The rows with errors or warnings as the department sent them, plus the row number and one column
    of messages, so the department can correct its own file."""
    wb = SafeWorkbook()
    ws = wb.create_sheet("错误和提示")
    ws.append(["原行号", *upload.headers, "问题说明"])
    # the columns holding ID and phone numbers are masked unless full numbers were asked for
    from yfbz.files.formats import ROSTER
    from yfbz.files.reader import header_key, staff_wordings, wordings_of

    index = wordings_of(ROSTER, staff_wordings(ROSTER))
    pii_cols = set() if full else {
        i for i, h in enumerate(upload.headers) if index.get(header_key(str(h or "")), ("",))[0] in ("id_number", "phone")
    }
    for row in rows.iterator(chunk_size=2000):
        cells = list(row.cells) + [""] * (len(upload.headers) - len(row.cells))
        cells = [mask(str(c)) if i in pii_cols and c not in (None, "") else c for i, c in enumerate(cells)]
        ws.append([row.row_number, *cells, row.messages_text])
    return wb.to_bytes()



# --- large exports as tasks (issue 14, yfbz.core.exports) ----------------------------------------------
def _people_rows(user, params):
    from yfbz.core.exports import Asked

    from .views import _person_filter

    return _person_filter(Asked(user, params)).qs


def _people_file(user, params, full):
    from django.utils import timezone

    from yfbz.core.downloads import download_name

    return (people_xlsx(_people_rows(user, params), full=full),
            download_name("救助对象人员名单", timezone.localdate().strftime("%Y%m%d"), ext="xlsx", full=full))


def register_exports() -> None:
    from yfbz.core import exports

    exports.register("beneficiaries.people", title="救助对象人员名单", permission="beneficiaries.view_person",
                     rows=_people_rows, build=_people_file)
