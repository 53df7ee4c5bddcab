"""Unit tests are pure: no sockets, no AWS."""

import pytest


@pytest.fixture(autouse=True)
def _no_network(socket_disabled):  # provided by pytest-socket
    yield
