"""Fixtures of the audit tests: a signing key of their own."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.audit.signing import Signer

ORIGIN = "hamkari.test/log"


@pytest.fixture
def signer() -> Signer:
    return Signer(ORIGIN, Ed25519PrivateKey.generate())
