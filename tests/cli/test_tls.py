"""--cacert and -k against a real HTTPS server on 127.0.0.1 with a self-signed certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.cli.conftest import Ochami


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"code":0,"message":"HSM is healthy"}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on a free loopback port; yields its URL and its certificate."""
    cert, key = _self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_untrusted_certificate_fails(ochami: Ochami, https: tuple[str, Path]) -> None:
    """Without --cacert a self-signed certificate is refused."""
    url, _ = https
    r = ochami("-u", url, "smd", "service", "status")
    assert r.exit_code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in r.stderr


def test_cacert_trusts_the_server(ochami: Ochami, https: tuple[str, Path]) -> None:
    """--cacert with the server's certificate makes the request succeed."""
    url, cert = https
    r = ochami("-u", url, "--cacert", str(cert), "smd", "service", "status")
    assert (r.exit_code, r.stdout) == (0, '{"code":0,"message":"HSM is healthy"}\n')


def test_insecure_skips_verification(ochami: Ochami, https: tuple[str, Path]) -> None:
    """-k talks to the server without verifying it."""
    url, _ = https
    assert ochami("-u", url, "-k", "smd", "service", "status").exit_code == 0


def test_missing_cacert_file(ochami: Ochami) -> None:
    """A --cacert that cannot be loaded is an error naming it."""
    r = ochami("-u", "https://127.0.0.1:9", "--cacert", "/nonexistent.pem", "smd", "service", "status")
    assert r.exit_code == 1
    assert "cannot load CA certificate /nonexistent.pem" in r.stderr
