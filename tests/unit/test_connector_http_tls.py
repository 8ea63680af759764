"""https through the pinned address: the connection goes to the checked IP, while TLS (SNI and
the certificate check) uses the host name; a certificate for another name is refused."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest

from framework.errors import ToolFailedError
from framework.tools import get_tools
from tests import netguard
from tests.netguard import LocalServer, NetGuard

net = netguard.net  # the loopback-only socket guard


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_https_connects_to_the_checked_address_and_verifies_the_name(
        net: NetGuard, tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path, "svc.example.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    seen: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    with LocalServer() as tls:
        tls.socket = context.wrap_socket(tls.socket, server_side=True)
        port = tls.server_address[1]
        net.hosts.update({"svc.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]})
        tool = get_tools("http", allow=[f"svc.example.test:{port}", f"other.example.test:{port}"],
                         private_networks=["127.0.0.1/32"], ca_bundle=str(cert))[0]
        out = tool.invoke({"url": f"https://svc.example.test:{port}/hello"})
        assert out["status"] == 200 and out["text"] == "hello from GET /hello"
        assert seen == ["svc.example.test"] and net.connects == [("127.0.0.1", port)]
        assert tls.requests[0]["headers"]["Host"] == f"svc.example.test:{port}"
        with pytest.raises(ToolFailedError, match="CERTIFICATE_VERIFY_FAILED|hostname"):
            tool.invoke({"url": f"https://other.example.test:{port}/"})
        assert len(tls.requests) == 1
