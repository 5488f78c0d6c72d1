"""The running hub over the wire: TLS versions, headers, authentication, body limits, `next` across workers.

Uses `requests`, `http.client` through serverproc (to choose the gunicorn worker a request lands on) and
raw TLS sockets where a library would add or hide something. Row ids refer to spec/taxii21-checklist.md.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import socket
import ssl
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.hubtest import MT, ROOT, indicator
from tests.support.serverproc import FEEDER, HOST, SCRATCH, WALK, HubServer, basic, free_port, layout, run_cli

pytestmark = pytest.mark.slow

WALK_OBJECTS = 60
WALK_LIMIT = 5
MAX_CONTENT_LENGTH = 65536  # api1's limit in hubtest.write_config


def tls_handshake(server: HubServer, context: ssl.SSLContext) -> str:
    with socket.create_connection((HOST, server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            return str(tls.version())


# -- A1–A4: TLS ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("version", "name"), [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                                               (ssl.TLSVersion.TLSv1_3, "TLSv1.3")], ids=["TLSv1.2", "TLSv1.3"])
def test_tls_1_2_and_1_3_handshakes_succeed(server: HubServer, version: ssl.TLSVersion, name: str) -> None:
    context = server.tls_context()
    context.minimum_version = context.maximum_version = version
    assert tls_handshake(server, context) == name


def test_tls_1_1_and_older_are_refused(server: HubServer) -> None:
    context = server.tls_context()
    with warnings.catch_warnings():
        # Python deprecates asking for TLS 1.0/1.1; asking is the point of this test.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the local OpenSSL offer the old protocols at all
    with pytest.raises(ssl.SSLError) as raised:
        tls_handshake(server, context)
    # With TLS 1.1 available locally the refusal must be the server's protocol-version alert; a build without
    # it fails before sending, which still shows that no handshake below TLS 1.2 completes.
    expected = "TLSV1_ALERT_PROTOCOL_VERSION" if ssl.HAS_TLSv1_1 else "NO_PROTOCOLS_AVAILABLE"
    assert raised.value.reason == expected


def test_tls_1_2_without_forward_secret_aead_suites_is_refused(server: HubServer) -> None:
    """A4: a client offering only static-RSA CBC suites gets no handshake."""
    context = server.tls_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("AES128-SHA:AES256-SHA")
    with pytest.raises(ssl.SSLError):
        tls_handshake(server, context)


def test_the_server_certificate_is_checked_against_the_generated_ca(server: HubServer) -> None:
    """A1: a client trusting another CA is refused, so the handshakes above really verified the hub's CA."""
    untrusting = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    untrusting.load_verify_locations(cadata=_unrelated_ca_pem())
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_handshake(server, untrusting)


def _unrelated_ca_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unrelated CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# -- headers ---------------------------------------------------------------------------------------------------

def test_responses_carry_a_date_header(server: HubServer) -> None:
    """C11: clients can correct clock skew from Date."""
    reply = server.request("GET", "/taxii2/")
    sent = email.utils.parsedate_to_datetime(reply.headers["Date"])
    assert abs(sent - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)


def test_a_request_without_user_agent_is_served(server: HubServer) -> None:
    """A8: written byte by byte on a TLS socket, so no library adds a User-Agent."""
    request = (f"GET /taxii2/ HTTP/1.1\r\nHost: {HOST}:{server.port}\r\nAccept: {MT}\r\n"
               f"Authorization: {basic('alice', server.keys['alice'])}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((HOST, server.port), timeout=10) as raw:
        with server.tls_context().wrap_socket(raw, server_hostname=HOST) as tls:
            tls.sendall(request)
            received = b""
            for _ in range(1000):
                chunk = tls.recv(65536)
                if not chunk:
                    break
                received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 200 OK"
    assert json.loads(body)["title"] == "test hub"


# -- A6, A7: authentication ------------------------------------------------------------------------------------

def _basic_with_key(server: HubServer) -> dict[str, str]:
    return {"Authorization": basic("alice", server.keys["alice"])}


def _bearer_with_key(server: HubServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.keys['alice']}"}


@pytest.mark.parametrize("credentials", [_basic_with_key, _bearer_with_key], ids=["basic", "bearer"])
def test_the_api_key_works_as_basic_password_and_as_bearer_token(
    server: HubServer, credentials: Callable[[HubServer], dict[str, str]]
) -> None:
    response = server.session(None).get(server.url(f"/{ROOT}/collections/"), headers=credentials(server))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT


WRONG_CREDENTIALS: dict[str, Callable[[HubServer], dict[str, str]]] = {
    "none": lambda s: {},
    "basic-wrong-key": lambda s: {"Authorization": basic("alice", s.keys["alice"] + "x")},
    "basic-other-orgs-key": lambda s: {"Authorization": basic("alice", s.keys["bob"])},
    "bearer-wrong-key": lambda s: {"Authorization": "Bearer thk_not-a-key"},
}


@pytest.mark.parametrize("credentials", list(WRONG_CREDENTIALS.values()), ids=list(WRONG_CREDENTIALS))
def test_wrong_credentials_get_401_with_a_challenge_and_a_taxii_error(
    server: HubServer, credentials: Callable[[HubServer], dict[str, str]]
) -> None:
    response = server.session(None).get(server.url("/taxii2/"), headers=credentials(server))
    assert response.status_code == 401
    assert "Basic" in response.headers["WWW-Authenticate"]
    assert response.headers["Content-Type"] == MT
    assert isinstance(response.json()["title"], str)


# -- F4, F5: request-size limit, chunked and not ---------------------------------------------------------------

def envelope_of_size(size: int) -> bytes:
    """A one-indicator envelope of exactly `size` bytes (the description pads it)."""
    bare = json.dumps({"objects": [indicator(description="")]}).encode()
    obj = indicator(description="x" * (size - len(bare)))
    body = json.dumps({"objects": [obj]}).encode()
    assert len(body) == size
    return body


def chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    """A generator body: requests then sends it with Transfer-Encoding: chunked and no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def post(server: HubServer, body: bytes | Iterator[bytes]) -> requests.Response:
    return server.session(FEEDER).post(
        server.url(server.collection_path(SCRATCH, "objects/")), data=body, headers={"Content-Type": MT},
    )


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_over_max_content_length_gets_413_with_a_taxii_error(server: HubServer, chunked: bool) -> None:
    body = envelope_of_size(MAX_CONTENT_LENGTH + 2048)
    response = post(server, chunks(body) if chunked else body)
    assert response.status_code == 413
    assert response.request.headers.get("Transfer-Encoding") == ("chunked" if chunked else None)
    assert response.headers["Content-Type"] == MT
    assert response.json()["http_status"] == "413"


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_just_under_max_content_length_is_accepted(server: HubServer, chunked: bool) -> None:
    body = envelope_of_size(MAX_CONTENT_LENGTH - 1)
    response = post(server, chunks(body) if chunked else body)
    assert response.status_code == 202, response.text
    assert response.request.headers.get("Transfer-Encoding") == ("chunked" if chunked else None)
    assert (response.json()["status"], response.json()["success_count"]) == ("complete", 1)


# -- K5, K6, M12: any worker serves what another began ---------------------------------------------------------

@pytest.fixture(scope="module")
def walk_ids(server: HubServer) -> list[str]:
    objects = [indicator() for _ in range(WALK_OBJECTS)]
    response = server.session(FEEDER).post(
        server.url(server.collection_path(WALK, "objects/")), json={"objects": objects},
        headers={"Content-Type": MT},
    )
    assert response.json()["success_count"] == WALK_OBJECTS
    return [o["id"] for o in objects]


def test_next_tokens_from_one_worker_are_honoured_by_the_other(server: HubServer, walk_ids: list[str]) -> None:
    """K5: every page is fetched from the worker that did not issue its `next` token."""
    first, second = sorted(server.workers())
    path = server.collection_path(WALK, "objects/")
    query, worker = f"?limit={WALK_LIMIT}", first
    seen: list[str] = []
    served_by: list[int] = []
    for _ in range(WALK_OBJECTS // WALK_LIMIT + 2):
        reply = server.request("GET", path + query, FEEDER, worker=worker)
        assert reply.status == 200, reply.body
        page = reply.json()
        seen += [o["id"] for o in page["objects"]]
        served_by.append(reply.worker)
        if not page.get("more"):
            break
        query = f"?limit={WALK_LIMIT}&next={quote(page['next'])}"
        worker = second if worker == first else first
    assert seen == walk_ids
    assert served_by == [(first, second)[i % 2] for i in range(WALK_OBJECTS // WALK_LIMIT)]


def test_next_without_limit_returns_the_rest(server: HubServer, walk_ids: list[str]) -> None:
    """K6: a `next` token alone is enough; the page size falls back to the server's maximum."""
    session = server.session(FEEDER)
    url = server.url(server.collection_path(WALK, "objects/"))
    page = session.get(url, params={"limit": WALK_LIMIT}).json()
    rest = session.get(url, params={"next": page["next"]})
    assert rest.status_code == 200
    assert [o["id"] for o in rest.json()["objects"]] == walk_ids[WALK_LIMIT:]
    assert not rest.json().get("more")


@pytest.mark.parametrize("direction", [0, 1], ids=["first-to-second", "second-to-first"])
def test_a_status_is_readable_at_once_from_the_other_worker(server: HubServer, direction: int) -> None:
    """M12: taxii2-client reads the status right after the POST, on whichever worker it reaches."""
    writer, reader = sorted(server.workers())[:: 1 if direction == 0 else -1]
    posted = server.request(
        "POST", server.collection_path(SCRATCH, "objects/"), FEEDER, worker=writer,
        headers={"Content-Type": MT}, body=json.dumps({"objects": [indicator()]}).encode(),
    )
    assert (posted.status, posted.worker) == (202, writer)
    status = server.request("GET", f"/{ROOT}/status/{posted.json()['id']}/", FEEDER, worker=reader)
    assert (status.status, status.worker) == (200, reader)
    assert status.json() == posted.json()


# -- the serve command refuses unsafe or impossible set-ups ----------------------------------------------------

@pytest.mark.parametrize("bind", ["192.0.2.10:8443", "[2001:db8::10]:8443"])
def test_insecure_http_off_loopback_is_refused_in_one_line(tmp_path: Path, bind: str) -> None:
    # Documentation-only addresses: even if the check were missing, nothing could listen there.
    result = run_cli(layout(tmp_path), "serve", "--bind", bind, "--insecure-http", timeout=20)
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1
    assert "loopback" in result.stderr and "Traceback" not in result.stderr


def test_serving_before_init_made_the_tls_files_fails_in_one_line(tmp_path: Path) -> None:
    result = run_cli(layout(tmp_path), "serve", "--bind", f"{HOST}:{free_port()}", "--workers", "1", timeout=20)
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1
    assert "taxii-hub init" in result.stderr and "Traceback" not in result.stderr
