"""The signing key and the trust roots, read from their files with the usual mistakes told apart.

Used by :mod:`certdocs.sign`. pyHanko and cryptography are imported when a file is read, not
when certdocs is: most commands never sign.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from certdocs.errors import Problem, SigningError, SigningInputError, os_error_text


def load_signer(pkcs12: Path, passphrase: bytes | None) -> Any:
    """pyHanko's signer from a PKCS#12 file, with the usual mistakes told apart."""
    from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
    from asn1crypto import pkcs12 as asn1_pkcs12
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12 as pyca_pkcs12
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from certdocs._pyhanko_parts import KeptKeySigner

    where = str(pkcs12)
    try:
        raw = pkcs12.read_bytes()
    except OSError as exc:
        raise SigningError([Problem(where, f"无法读取签名证书文件：{os_error_text(exc)}")]) from exc
    try:
        pfx = asn1_pkcs12.Pfx.load(raw, strict=True)
        pfx["auth_safe"]["content_type"].native  # noqa: B018 - forces the parse
    except Exception as exc:  # asn1crypto raises many kinds on garbage
        raise SigningInputError([Problem(where, "不是 PKCS#12（.p12/.pfx）签名证书文件")]) from exc
    try:
        key, cert, others = pyca_pkcs12.load_key_and_certificates(raw, passphrase)
    except ValueError as exc:
        rule = (
            "签名证书文件的口令错误（口令取自环境变量，默认 CERTDOCS_P12_PASSPHRASE）"
            if passphrase
            else "签名证书文件需要口令，但未提供口令（请设置环境变量 CERTDOCS_P12_PASSPHRASE）"
        )
        raise SigningInputError([Problem(where, rule)]) from exc
    if key is None or cert is None:
        raise SigningInputError([Problem(where, "签名证书文件中缺少私钥或证书")])
    now = datetime.now(UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        period = f"{cert.not_valid_before_utc:%Y-%m-%d} 至 {cert.not_valid_after_utc:%Y-%m-%d}"
        raise SigningInputError([Problem(where, f"签名证书不在有效期内（{period}）")])
    # The signer is made from what was just decrypted: pyHanko's own loader
    # (SimpleSigner.load_pkcs12_data) would run the passphrase's key derivation a second time.
    der = serialization.Encoding.DER
    try:
        key_info = asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        store = SimpleCertificateStore()  # type: ignore[no-untyped-call]
        store.register_multiple({asn1_x509.Certificate.load(other.public_bytes(der)) for other in others})
        return KeptKeySigner(
            key=key,
            signing_key=key_info,
            signing_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
            cert_registry=store,
        )
    except (ValueError, TypeError) as exc:  # pragma: no cover - cryptography accepted the same key above
        raise SigningError([Problem(where, f"无法加载签名证书：{exc}")]) from exc


def load_root(path: Path) -> Any:
    """pyHanko's certificate from a PEM or DER trust-root file."""
    from pyhanko.keys import load_cert_from_pemder

    try:
        return load_cert_from_pemder(str(path))  # type: ignore[no-untyped-call]
    except Exception as exc:  # OSError, ValueError, asn1 errors
        raise SigningError([Problem(str(path), "无法读取信任根证书（须为 PEM 或 DER 格式的单个证书）")]) from exc


__all__ = ["load_root", "load_signer"]
