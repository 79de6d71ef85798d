"""The words crawl on SQLite, the ``./dev serve`` set-up (DATABASE_URL=sqlite:///…, no Redis: tasks inline, cache in
memory), run in a child process by tests/core/test_every_page_in_words_sqlite.py: the test process itself is on
PostgreSQL. Migrates, loads the demo data, crawls every page, PDF and xlsx each role reaches, and prints
``{"pages": n, "problems": {...}}`` as JSON on its last line.

    DATABASE_URL=sqlite:////tmp/words.sqlite3 python -m tests.core.words_sqlite [people]
"""

import io
import json
import os
import sys


def main(people: int = 300) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yfbz.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3", "run me on SQLite"
    setup_test_environment()
    call_command("migrate", "--noinput", verbosity=0)
    call_command("demo_data", people=people, stdout=io.StringIO())

    from tests.core.test_every_page_in_words import check_every_page

    pages, problems = check_every_page(Client(raise_request_exception=False))
    print(json.dumps({"pages": pages, "problems": problems}, ensure_ascii=False))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
