"""Finding 7 across the whole product: each role walks every page it reaches on the demo data and reads
every xlsx and PDF linked from them; no full ID number or phone number of anyone appears unless asked for
on purpose (a reason, an access entry). The one exception is a decision notice, the person's own official
document (docs/security.md, "Personal information"); printing it is recorded as a NoticePrint.

The crawl is the words crawl's (tests/core/test_every_page_in_words.py): one page per kind across roles.
"""

import io
import re

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command

from beneficiaries.models import Person
from tests.core.test_every_door import text_of
from tests.core.test_every_page_in_words import ROLES, crawl
from yfbz.core.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

#: the person's own official document carries their full number by design
OWN_DOCUMENTS = re.compile(r"^/claims/decisions/\d+/notice|/notice\.pdf|/notices/batch/\d+/pdf")


def test_no_page_or_download_shows_a_full_id_or_phone_number_unless_asked(client):
    call_command("demo_data", people=120, stdout=io.StringIO())
    full = {n for n in Person.objects.values_list("id_number", flat=True) if n and len(n) >= 15}
    full |= {p for p in Person.objects.exclude(phone="").values_list("phone", flat=True) if p and len(p) >= 11}
    assert len(full) > 100
    number = re.compile(r"(?<![0-9])[0-9]{11,17}[0-9Xx]?(?![0-9Xx])")
    checked, leaks, pages, downloads = set(), {}, 0, 0
    for username in ROLES:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        client.force_login(user)
        accesses = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
        for url, resp in crawl(client, "/", checked):
            on_purpose = "full=1" in url and "reason=" in url  # a link that asks, with its reason
            if on_purpose:  # allowed, and recorded
                now = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
                if now <= accesses and resp.status_code == 200:
                    leaks[f"{username} {url}"] = ["full numbers on purpose, but no access entry"]
                accesses = now
            if resp.status_code != 200 or OWN_DOCUMENTS.search(url) or on_purpose:
                continue
            pages += 1
            body = text_of(resp)
            downloads += "text/html" not in resp.get("Content-Type", "")
            seen = {m.group() for m in number.finditer(body)} & full
            if seen:
                leaks[f"{username} {url}"] = sorted(seen)[:3]
    assert leaks == {}, "\n".join(f"{k}: {v}" for k, v in leaks.items())
    assert pages > 40 and downloads > 3, (pages, downloads)
