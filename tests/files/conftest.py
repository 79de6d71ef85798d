from tests.funding.conftest import fund  # noqa: F401 - money in the ledger for the bank return's batch
