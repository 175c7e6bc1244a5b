"""`englog certs DIR`: a private CA, a server and a client certificate for gRPC mTLS."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825  # the longest leaf validity mainstream clients still accept


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EngLog"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
    )


def _alt_names(hosts: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_certificates(
    directory: Path, *, server_hosts: list[str], ca_name: str = "EngLog CA"
) -> dict[str, Path]:
    """Writes ca.pem, server.pem/server-key.pem and client.pem/client-key.pem; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_subject = _name(ca_name)
    ca = (
        _builder(ca_subject, ca_subject, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        common_name: str, usage: x509.ObjectIdentifier, hosts: list[str]
    ) -> tuple[bytes, bytes]:
        key = _key()
        builder = (
            _builder(_name(common_name), ca_subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(_alt_names(hosts)), critical=False
            )
        return _pem_cert(builder.sign(ca_key, hashes.SHA256())), _pem_key(key)

    server_cert, server_key = leaf("englog-api", ExtendedKeyUsageOID.SERVER_AUTH, server_hosts)
    client_cert, client_key = leaf("englog-worker", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    files = {
        "ca": (directory / "ca.pem", _pem_cert(ca)),
        "server_cert": (directory / "server.pem", server_cert),
        "server_key": (directory / "server-key.pem", server_key),
        "client_cert": (directory / "client.pem", client_cert),
        "client_key": (directory / "client-key.pem", client_key),
    }
    for path, content in files.values():
        path.write_bytes(content)
        if path.name.endswith("-key.pem"):
            path.chmod(0o600)
    return {name: path for name, (path, _) in files.items()}
