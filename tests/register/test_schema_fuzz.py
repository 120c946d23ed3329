"""A schema-driven fuzzer (schemathesis) against the register's own OpenAPI document.

Every operation is called with requests generated from the published schema, valid and
deliberately invalid, with a kiosk's credential (an admin's for the admin-only report),
on both backends. Each answer must be no 5xx, carry a status code the operation
documents, and match the documented response schema; invalid requests must be refused.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from valgkiosk.register import credentials
from valgkiosk.register.api import create_app
from valgkiosk.register.store import SqlStore

from .factory import ADMIN, TABLE_1, fill

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, negative_data_rejection]
TOKENS: dict[str, str] = {}


@pytest.fixture
def register_schema(store: SqlStore) -> object:
    """The live OpenAPI document of a filled register, served in-process (ASGI)."""
    fill(store)
    TOKENS["kiosk"] = credentials.issue(store, TABLE_1)
    TOKENS["admin"] = credentials.issue(store, ADMIN)
    app = create_app(store, now=lambda: datetime(2025, 9, 8, 9, 0, tzinfo=timezone.utc))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=40)
    return schema


schema = schemathesis.pytest.from_fixture("register_schema")


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error_and_no_answer_outside_the_schema(case: schemathesis.Case) -> None:
    role = "admin" if case.path in ("/v1/reconciliation", "/v1/access-report") else "kiosk"
    headers = {"Authorization": f"Bearer {TOKENS[role]}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
