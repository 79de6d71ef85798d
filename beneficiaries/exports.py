"""xlsx exports. They take a queryset already scoped by the caller (visible_to)."""

from yfbz.core.exports import stream
from yfbz.core.pii import mask
from yfbz.core.spreadsheets import SafeWorkbook

# rows built in the request within ~150 ms at a million people (yfbz.core.exports; docs/scaling.md "Exports"): measured
# 51 µs a person (7 columns) and 40 µs a roster row; more is a job
PEOPLE_INLINE_ROWS = 2000
ISSUES_INLINE_ROWS = 2500


def people_xlsx(people, full: bool = False) -> bytes:
    """ID and phone numbers masked unless ``full`` (asked for on purpose and recorded: yfbz.core.pii)."""
    m = str if full else mask
    wb = SafeWorkbook()
    ws = wb.create_sheet("人员")
    ws.append(["公民身份号码", "姓名", "性别", "出生日期", "所属镇街", "村（社区）", "联系电话"])
    for p in stream(people, 2000):
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
    for row in stream(rows, 2000):
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


def issue_rows(user, upload):
    """The rows of ``upload`` with an error or a warning, in the file's order (index ``roster_row_issue``: an
    upload of 652,886 rows and no issue was read whole to find none, 0.39 s)."""
    from django.db.models import Q

    from . import selectors
    from .models import RosterRow

    return (selectors.rows_for(user, upload).filter(row_number__isnull=False)
            .filter(Q(outcome=RosterRow.Outcome.INVALID) | ~Q(warnings=[])).order_by("row_number"))


def issues_name(upload) -> tuple[str, str]:
    return f"{upload.department.name}{upload.month:%Y年%m月}名单", "错误和提示"


def _issue_upload(user, params):
    from . import selectors

    return selectors.upload_for(user, int(params["upload"]))


def _issues_file(user, params, full):
    from yfbz.core.downloads import download_name

    upload = _issue_upload(user, params)
    return (roster_issues_xlsx(upload, issue_rows(user, upload), full=full),
            download_name(*issues_name(upload), ext="xlsx", full=full))


def register_exports() -> None:
    from yfbz.core import exports

    exports.register("beneficiaries.people", title="救助对象人员名单", permission="beneficiaries.view_person",
                     rows=_people_rows, build=_people_file, inline_rows=PEOPLE_INLINE_ROWS)
    # who may read an upload is its scoping (``upload_for``: a 404 in the task once it is no longer theirs), as in the view
    exports.register("beneficiaries.roster_issues", title="名单错误和提示", permission=lambda user: True,
                     rows=lambda user, params: issue_rows(user, _issue_upload(user, params)), build=_issues_file,
                     inline_rows=ISSUES_INLINE_ROWS)
