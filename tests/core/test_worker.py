import pytest


@pytest.mark.worker
def test_a_real_worker_takes_a_task_through_redis_and_reads_the_database(celery_worker_real):
    from yfbz.core.tasks import ping_database

    result = ping_database.delay().get(timeout=30)
    assert result["database"] is True
    assert result["towns"] == 30
