"""The app against its OpenAPI description (openapi/taxii-hub.openapi.yaml), with schemathesis through WSGI.

For every operation, at two privilege levels (a member, `alice`, and a hub analyst): no 5xx, and every answer
conforms to the description — status code documented, media type, headers, body schema. Examples per
operation are few (spec/security.md §4.1 asks for the CI run to go wider); path parameters are drawn partly
from what the fixture hub really holds, so answers other than 404 are exercised too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.hubtest import C_NONE, C_RO, C_RW, INBOX, MT, ROOT, Hub, indicator, make_hub, malware, post_objects

SCHEMA_PATH = Path(__file__).parents[2] / "openapi" / "taxii-hub.openapi.yaml"
EXAMPLES_PER_OPERATION = 8
X = "indicator--1f3c6a4e-7d7b-4c1e-9a52-3c1d2b4e5f60"
Y = "malware--2a4b6c8d-0e1f-4a2b-8c3d-4e5f6a7b8c9d"


class CurrentApp:
    """The WSGI app schemathesis sends to (its own probes too, such as the unauthenticated retry of
    `ignored_auth`): the module's fixture hub, which exists only once the fixture ran."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "the api_hub fixture sets the app"
        return self.app(environ, start_response)


CURRENT = CurrentApp()
# A raw mail upload is bytes, as application/octet-stream is (schemathesis has no serializer of its own for it).
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")
schemathesis.serializer.alias("application/vnd.ms-outlook", "application/octet-stream")
schema = schemathesis.openapi.from_path(SCHEMA_PATH)
schema.app = CURRENT
# Schema-valid data may still be refused by the hub's rules: an opaque `next` from nowhere, unknown ids,
# a publication the leak check refuses. Those answers (400/422) are documented; the positive-data check,
# which expects 2xx for every schema-valid request, does not apply.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]

KNOWN = {
    "api_root": [ROOT, "api2"],
    "collection_id": [C_RW, C_RO, C_NONE, INBOX, "rw"],
    "object_id": [X, Y],
    "collection": [C_RW, "rw", INBOX, C_NONE],
}


@schema.hook
def flatmap_path_parameters(
    context: Any, path_parameters: dict[str, Any] | None,
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Half the time a path parameter names something the fixture hub holds, else schemathesis' own value."""
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries({
        name: st.one_of(st.just(value), st.sampled_from(KNOWN[name])) if name in KNOWN else st.just(value)
        for name, value in path_parameters.items()
    })


@pytest.fixture(scope="module")
def api_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    built = make_hub(tmp_path_factory.mktemp("schemathesis"))
    for modified in ("2021-01-01T00:00:00.000Z", "2021-01-02T00:00:00.000Z"):
        assert post_objects(built, "alice", C_RW, [indicator(X, modified=modified)]).status_code == 202
    assert post_objects(built, "alice", C_RW, [malware(Y)]).status_code == 202
    CURRENT.app = built.app
    yield built
    CURRENT.app = None
    built.store.close()


@pytest.mark.parametrize("org", ["alice", "analyst"])
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_app_conforms_to_its_openapi_description(case: schemathesis.Case, org: str, api_hub: Hub) -> None:
    accept = "application/json" if case.path.startswith("/hub/") else MT
    case.call_and_validate(headers=api_hub.headers(org, Accept=accept), excluded_checks=EXCLUDED_CHECKS)
