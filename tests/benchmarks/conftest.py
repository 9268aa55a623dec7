"""The marketplace fixtures (tests/training) for the benchmarks' reference checks."""

from tests.training.conftest import api, course, institution, participant, platform, signed_client  # noqa: F401
