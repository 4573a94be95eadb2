"""Schemathesis hooks for tests/test_fuzz.py (loaded by `st run` as SCHEMATHESIS_HOOKS).

The run is authenticated by a bearer token of a fresh account of the run's role, made by
the test's provisioning endpoint (SHOP_FUZZ_MINT). Schemathesis asks again after a 401:
an operation that ended the credentials (logout-all, a password change, deleting oneself,
revoking the token, a role change) then gets a new account and token, and the run goes on.
"""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis

MINT = os.environ.get("SHOP_FUZZ_MINT", "")
ROLE = os.environ.get("SHOP_FUZZ_ROLE", "anonymous")


if ROLE != "anonymous":

    @schemathesis.auth()
    class FreshToken:
        def get(self, case: Any, ctx: Any) -> str:
            response = requests.post(MINT, json={"role": ROLE}, timeout=30)
            response.raise_for_status()
            token: str = response.json()["token"]
            return token

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
