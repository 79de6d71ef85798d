"""What printing one notice costs a web process (issue 14: never rendered there).

Run in a fresh interpreter against a database with approved bills (e.g. the demo data) and a Celery
worker on the same REDIS_URL; the web side here sends the task to the broker as deployed:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yfbz REDIS_URL=redis://127.0.0.1:6379/0 \
      .venv/bin/python bench/notice_web.py [--prints 3]

As the district clerk (Django's test client, in this process): warm up on a bill page, the bill list
and the print records, then for each of ``--prints`` approved bills (printed before or not): the bill
page, 打印 or 重印 (the POST), the job page, its progress until finished, the PDF download. Prints each request's
time, the process's private memory (``/proc/self/smaps_rollup``: Private_Clean + Private_Dirty) before
and after, and whether WeasyPrint was imported in this process (it must not be).
"""

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yfbz.settings")
os.environ.setdefault("YFBZ_OTP_REQUIRED", "0")

import django  # noqa: E402

django.setup()


def private_kib() -> int:
    out = {}
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            key, value = line.split(":", 1)
            if key in ("Private_Clean", "Private_Dirty"):
                out[key] = int(value.split()[0])
    return out["Private_Clean"] + out["Private_Dirty"]


def timed(fn, *args, **kwargs):
    t = time.monotonic()
    resp = fn(*args, **kwargs)
    return resp, time.monotonic() - t


def main():
    from django.test import Client

    from claims.models import Bill, Decision
    from yfbz.celery import app
    from yfbz.core.models import User

    ap = argparse.ArgumentParser()
    ap.add_argument("--prints", type=int, default=3)
    ap.add_argument("--user", default="district_clerk")
    ap.add_argument("--baseline", action="store_true",
                    help="instead of printing, as many plain page views (bill page, print records) per bill: "
                         "what any page grows this process by over as many requests")
    a = ap.parse_args()
    if app.conf.task_always_eager:
        sys.exit("tasks run inline here (no REDIS_URL, or CELERY_TASK_ALWAYS_EAGER=1): set REDIS_URL and start a worker")
    user = User.objects.get(username=a.user)
    todo = list(Decision.objects.visible_to(user).filter(is_current=True, reviewed_at__isnull=False,
                                        bill__status__in=[Bill.Status.APPROVED, Bill.Status.PAID, Bill.Status.REFUSED])
                .order_by("pk").values_list("bill_id", flat=True)[: a.prints + 1])  # prints and reprints alike
    if len(todo) < 2:
        sys.exit("no approved bill: load the demo data")
    warm, todo = todo[0], todo[1:]
    c = Client()
    c.force_login(user)
    for url in (f"/claims/bills/{warm}/", "/claims/", "/claims/notices/batches/", f"/claims/bills/{warm}/"):
        assert c.get(url).status_code == 200, url
    before = private_kib()
    rows = []
    for bill_id in todo:
        if a.baseline:
            for url in (f"/claims/bills/{bill_id}/", "/claims/notices/batches/", f"/claims/bills/{bill_id}/",
                        "/claims/notices/batches/", f"/claims/bills/{bill_id}/"):
                assert c.get(url).status_code == 200, url
            continue
        resp, t_bill = timed(c.get, f"/claims/bills/{bill_id}/")
        form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(?:(?!</form>).)*data-testid="print-notice"',
                         resp.content.decode(), re.S)
        resp, t_post = timed(c.post, form.group(1))
        job = resp["Location"]
        _, t_job = timed(c.get, job)
        t0 = time.monotonic()
        while not c.get(job + "progress.json").json()["finished"]:
            if time.monotonic() - t0 > 300:
                sys.exit("the job did not finish in 300 s: is a worker running on this REDIS_URL?")
            time.sleep(0.2)
        waited = time.monotonic() - t0
        pdf, t_pdf = timed(c.get, job + "?download=1")
        assert pdf["Content-Type"] == "application/pdf", pdf["Content-Type"]
        rows.append({"bill": bill_id, "bill_page_s": round(t_bill, 3), "post_s": round(t_post, 3),
                     "job_page_s": round(t_job, 3), "worker_s": round(waited, 2), "download_s": round(t_pdf, 3)})
    after = private_kib()
    for row in rows[:10]:
        print(json.dumps(row))
    for key in () if a.baseline else ("bill_page_s", "post_s", "job_page_s", "download_s", "worker_s"):
        values = sorted(r[key] for r in rows)
        print(f"{key}: median {values[len(values) // 2]}, max {values[-1]} ({len(values)} prints)")
    print(json.dumps({"private_memory_growth_mib": round((after - before) / 1024, 1),
                      "weasyprint_imported": any(m.split(".")[0] == "weasyprint" for m in sys.modules)}))


if __name__ == "__main__":
    main()
