"""Demo rosters: for every department, the three months before this one, built from the demo people
with exits, town moves, a category change, newcomers and a few faulty rows.

The two older months are applied through the administrators' route (as `import_roster --apply`);
the last month of 民政 waits in town review, every town done but 回兴, whose review is past its
deadline (hx_clerk may still review it, or the reviewer confirms with a reason, accepting 回兴's rows as
sent), so every screen has something to show.
Deterministic and re-runnable: a file already confirmed changes nothing (same bytes, same month).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

DEPT_UPLOADERS = {"CIVIL": "civil_officer", "VETERANS": "veterans_officer"}


def demo_steps():
    return [demo_rosters]


def _months_before(today: date, n: int) -> list[date]:
    months, m = [], today.replace(day=1)
    for _ in range(n):
        m = (m - timedelta(days=1)).replace(day=1)
        months.append(m)
    return list(reversed(months))


def _wordings():
    from .models import CategoryAlias

    out: dict[int, str] = {}
    for alias in CategoryAlias.objects.order_by("id"):
        out.setdefault(alias.category_id, alias.wording)
    return out


def _new_id(rng: random.Random, taken: set[str]) -> str:
    from yfbz.rules.idcard import check_character

    while True:
        birth = date(1940, 1, 1) + timedelta(days=rng.randint(0, 25_000))
        first17 = f"500112{birth:%Y%m%d}{rng.randint(0, 999):03d}"
        n = first17 + check_character(first17)
        if n not in taken:
            taken.add(n)
            return n


def _roster_rows(dept, month: date, rng: random.Random, *, faulty: bool) -> list[tuple]:
    """This month's roster of `dept` as the department would write it, from the identities now open."""
    from .models import Category, Identity, Person, Town

    wording = _wordings()
    towns = list(Town.objects.order_by("code").values_list("name", flat=True))
    open_ids = list(
        Identity.objects.filter(category__department=dept, valid_to__isnull=True)
        .order_by("person__id_number", "category_id")
        .values_list("person__id_number", "person__name", "category_id", "person__town__name")
    )
    rows = []
    for idn, name, cat_id, town in open_ids:
        roll = rng.random()
        if roll < 0.02:
            continue  # left the roster: the identity ends (D6)
        if roll < 0.03:
            town = rng.choice(towns)  # moved
        short = town.removesuffix("街道").removesuffix("镇") if town and rng.random() < 0.3 else town
        rows.append((idn, name, wording.get(cat_id, ""), short or "", "", ""))
    taken = set(Person.objects.values_list("id_number", flat=True))
    cats = list(Category.objects.filter(department=dept).values_list("pk", flat=True))
    for i in range(8 if cats else 0):
        certified = month + timedelta(days=rng.randint(0, 20))
        name = rng.choice("王李张刘陈杨黄赵") + rng.choice(["新民", "春燕", "国强", "秀英", "海涛"])
        rows.append((_new_id(rng, taken), name, wording.get(rng.choice(cats), ""), rng.choice(towns),
                     certified.strftime("%Y/%-m/%-d") if i % 2 else certified.isoformat(), ""))
    if faulty and rows:
        bad = rows[0][0][:17] + ("0" if rows[0][0][17] != "0" else "1")
        rows.append((bad, "校验位错", rows[0][2], rows[0][3], "", ""))
        rows.append((_new_id(rng, taken), "写法未知", "临时救助对象", towns[0], "", ""))
        rows.append((_new_id(rng, taken), "镇街不明", rows[0][2], "火星街道", "", ""))
    return rows


def _xlsx(rows) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名单")
    ws.append(["身份证号码", "姓名", "救助类别", "所属镇街", "认定日期", "联系电话"])
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def demo_rosters(stdout, rng):
    from yfbz.core.models import User

    from . import services
    from .models import Department, RosterRow, RosterUpload

    admin = User.objects.filter(username="admin").first()
    if admin is None:
        return
    users = {u.username: u for u in User.objects.filter(username__in=["civil_officer", "veterans_officer", "district_clerk"])}
    town_clerks = list(User.objects.filter(username__endswith="_clerk", town__isnull=False).exclude(town__code="HX")
                       .order_by("username"))
    months = _months_before(timezone.localdate(), 3)
    made = 0
    for dept in Department.objects.order_by("id"):
        for i, month in enumerate(months):
            if RosterUpload.objects.filter(department=dept, month=month).exists():
                continue  # already there from an earlier run
            last = i == len(months) - 1
            if last and dept.code != "CIVIL":
                continue  # the other departments have not sent last month's roster yet: the duty board shows it
            local = random.Random(f"{dept.code}-{month}")
            data = _xlsx(_roster_rows(dept, month, local, faulty=last or i == 0))
            name = f"{dept.name}{month:%Y年%m月}名单.xlsx"
            if not last:
                services.roster_import(user=admin, department=dept, month=month, mode="snapshot", file_name=name,
                                       data=data, apply=True, confirm_endings=True)
            else:
                uploader = users.get(DEPT_UPLOADERS.get(dept.code, "district_clerk")) or admin
                result = services.roster_upload_create(user=uploader, department=dept, month=month, mode="snapshot",
                                                       file_name=name, data=data)
                upload = result.upload
                services.roster_check(upload_id=upload.pk)  # here, not queued: a demo run with Redis has no worker yet
                upload.refresh_from_db()
                if upload.status == RosterUpload.Status.VALIDATED:
                    services.roster_submit(upload=upload, user=uploader)
                    for clerk in town_clerks:  # every town but 回兴 has reviewed
                        services.roster_rows_review(upload=upload, user=clerk, accept=True)
                    # sent to the towns three weeks ago: 回兴's review is past its deadline (5 working days), so the
                    # reviewer may also confirm without it, accepting its rows as sent (the duty board shows it late)
                    sent = timezone.now() - timedelta(days=21)
                    RosterUpload.objects.filter(pk=upload.pk).update(uploaded_at=sent, submitted_at=sent)
                    RosterRow.objects.filter(upload=upload, review=RosterRow.Review.ACCEPTED).update(
                        reviewed_at=sent + timedelta(days=2))  # the towns that reviewed did so in time
            made += 1
    stdout.write(f"演示名单：新增 {made} 份（各部门近三个月，含终止、迁移、新增和错误行）")
