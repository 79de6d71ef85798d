"""The gunicorn configuration of the web processes (docs/deployment.md, "Web processes"):

    gunicorn -c python:yfbz.webserver yfbz.wsgi --bind 127.0.0.1:8000

- ``workers`` 4 (``WEB_CONCURRENCY`` to change): 2 per core, as ``bench/pages.py`` measures a 2-core host.
- ``max_requests`` 2000 with a jitter of 200: each worker is replaced after about 2,000 requests, so memory a
  page once took is handed back; the jitter keeps the workers from restarting together.
- ``timeout`` 60 s (a silent worker is killed: long work is a Celery task), ``graceful_timeout`` 30 s.
- ``preload_app``: the application is loaded once in the master, which then does what each worker would do
  at its first requests (``yfbz.core.warm``: every template compiled, every view imported, the
  translations and the Celery app ready) before forking the workers. A worker, and each replacement,
  starts warm. A new release therefore needs a restart of the master (``systemctl restart``), not a HUP.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
max_requests = 2000
max_requests_jitter = 200
timeout = 60
graceful_timeout = 30
preload_app = True


def when_ready(server):
    """The master has loaded the application and opened its sockets; the workers are forked next."""
    import gc

    from django.db import connections

    from yfbz.core.warm import warm

    server.log.info("warm: %s", warm())
    connections.close_all()  # never a database connection shared by the forked workers
    gc.collect()
    gc.freeze()  # what the master loaded is never scanned by a worker's collector: its memory stays shared
