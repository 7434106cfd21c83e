"""Shared test settings and fixtures.

Hypothesis runs derandomised (reproducible) in CI.  Store and web tests get a fresh, migrated
database per test: an SQLite file in ``tmp_path`` always, and the same tests on PostgreSQL when
``DTI_TEST_DATABASE_URL`` names a server (``.ci/run`` starts one and sets it; in CI its absence
is an error, not a skip).
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def _backends() -> list[str]:
    backends = ["sqlite"]
    if os.environ.get("DTI_TEST_DATABASE_URL"):
        backends.append("postgresql")
    elif os.environ.get("CI"):
        raise RuntimeError("CI needs DTI_TEST_DATABASE_URL (a PostgreSQL server) for the store "
                           "tests; .ci/run starts one")
    return backends


@pytest.fixture(params=_backends())
def store(request, tmp_path):
    """A fresh, migrated store (database and evidence folder) for one test."""
    from assessment_support import fresh_store

    s = fresh_store(request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture
def world(store):
    """The store with a user of every role and an open edition (``assessment_support.populate``)."""
    from assessment_support import populate

    return populate(store)


@pytest.fixture
def app(world):
    """The portal with the assessment app on ``world``'s store."""
    from dti.web.app import create_app
    from dti.web.settings import Settings

    return create_app(Settings(), store=world.store)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """Argon2 with its cheapest parameters in tests: hashing stays real Argon2 (the parameters are
    stored in each hash), but seven users per test no longer cost a second."""
    from argon2 import PasswordHasher, profiles

    from dti.store import accounts

    default = accounts._hasher
    accounts._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    accounts._hasher = default
