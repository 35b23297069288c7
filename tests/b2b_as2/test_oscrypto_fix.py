"""pyas2lib through the oscrypto loader: imports on this OpenSSL and really signs and verifies."""

from __future__ import annotations

import subprocess
import sys
import textwrap

_PLAIN = "import pyas2lib"
_FIXED = textwrap.dedent(
    """
    from atomnb.b2b.as2.oscrypto_fix import install
    install()
    import pyas2lib  # noqa: F401
    from oscrypto import asymmetric
    from oscrypto._openssl._libcrypto import libcrypto_version_info
    public, private = asymmetric.generate_pair("rsa", bit_size=2048)
    signature = asymmetric.rsa_pkcs1v15_sign(private, b"payload", "sha256")
    asymmetric.rsa_pkcs1v15_verify(public, signature, b"payload", "sha256")
    try:
        asymmetric.rsa_pkcs1v15_verify(public, signature, b"tampered", "sha256")
    except Exception as exc:
        print("tampered refused:", type(exc).__name__)
    print("libcrypto", ".".join(map(str, libcrypto_version_info)))
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_pyas2lib_signs_and_verifies_through_the_loader() -> None:
    fixed = _run(_FIXED)
    assert fixed.returncode == 0, fixed.stderr
    assert "tampered refused: SignatureError" in fixed.stdout
    version = fixed.stdout.split("libcrypto ", 1)[1].split()[0]
    plain = _run(_PLAIN)
    if int(version.split(".")[2]) >= 10:  # a two-digit patch: the release cannot read it
        assert plain.returncode != 0
        assert "Error detecting the version of libcrypto" in plain.stderr
    else:
        assert plain.returncode == 0, plain.stderr
