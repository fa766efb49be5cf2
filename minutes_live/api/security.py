"""Who may ask what (docs/api.md, "Security"): the Host check, the per-start token of pin / unpin, and the
loopback rule.

- Every request's Host must name this server (the loopback names, the bound address, and for a wildcard or
  named bind this machine's names): a DNS-rebinding page, whose requests carry its own host name, gets 403
  on reads and writes alike.
- Reads are open on loopback; a bind beyond loopback is allowed with a warning (reads are then open to the
  network).
- Pin and unpin need the per-start token in `X-Minutes-Live-Token` (constant-time compare), a JSON body (a
  cross-site form cannot send one without a CORS preflight, never granted here) and, when an Origin is sent,
  the same origin. The token is made at start, printed in the URL and written to a 0600 file
  (`<data root>/dashboard/token`); the dashboard page carries it for a loopback client or a request with
  `?token=`.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit

from foundation import atomic, settings
from foundation.guardrails import InvalidInput

TOKEN_HEADER = "X-Minutes-Live-Token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def token_path(data_root: Path | None = None) -> Path:
    return Path(data_root or settings.data_root()) / "dashboard" / "token"


def write_token_file(token: str, path: Path | None = None) -> Path:
    """The token in a 0600 file (created 0600 from the start, renamed into place; never through a symlink)."""
    path = Path(path or token_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        raise InvalidInput(f"{path} is a symlink: refusing to write the dashboard token through it")
    atomic.write_text(path, token + "\n", mode=0o600, refuse_symlink=True)
    return path


def token_ok(presented: str | None, token: str) -> bool:
    return bool(presented) and hmac.compare_digest(presented.encode(), token.encode())


def same_origin(origin: str | None, host: str) -> bool:
    return origin is None or urlsplit(origin).netloc.lower() == host.lower()


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """Host header values naming this server: the loopback names, the bound address, and for a wildcard or
    named bind this machine's names."""
    names = set(LOOPBACK_NAMES)
    bound = host.strip("[]")
    names.add(f"[{bound}]" if ":" in bound else bound)
    if not is_loopback(host):
        for name in (socket.gethostname(), socket.getfqdn()):
            names.add(name.lower())
            try:
                for *_, addr in socket.getaddrinfo(name, None):
                    ip = str(addr[0])
                    names.add(f"[{ip}]" if ":" in ip else ip)
            except OSError:
                pass
    names.discard("")
    names.discard("0.0.0.0")
    names.discard("[::]")
    return frozenset({f"{n}:{port}" for n in names} | (set(names) if port == 80 else set()))
