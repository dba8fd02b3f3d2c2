"""Rerun issue 13's attacks from outside, over HTTP, against a running `therapybridge serve`.

    python scripts/attack_check.py --url http://127.0.0.1:8000 --email a@clinic.example --password-file F

Loopback only, bounded loops. Prints one line per check (ok / FAIL) and exits 1 when any fails. Start the
server with a small duration limit so the lying-header check stays quick, e.g. MAX_DURATION_HOURS=0.005
(18 s). Needs ffmpeg (for the test audio) and a therapist account.
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    RESULTS.append((name, ok, detail))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def lying_flac(folder: Path, real_s: int, declared_s: int) -> Path:
    """A FLAC whose STREAMINFO says declared_s while real_s seconds of audio decode."""
    path = folder / "lying.flac"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=220:duration={real_s}",
            "-ar",
            "16000",
            "-ac",
            "1",
            str(path),
        ],
        check=True,
    )
    data = bytearray(path.read_bytes())
    # STREAMINFO starts at byte 8 (after "fLaC" and the block header); total samples: 36 bits at offset 13.
    off = 8 + 13
    packed = struct.unpack(">Q", bytes(data[off - 3 : off + 5]))[0]
    total = declared_s * 16000
    packed = (packed & ~((1 << 36) - 1)) | total
    data[off - 3 : off + 5] = struct.pack(">Q", packed)
    path.write_bytes(bytes(data))
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--email", required=True)
    ap.add_argument("--password-file", type=Path, required=True)
    ap.add_argument("--data-dir", type=Path, help="the server's THERAPYBRIDGE_DATA_DIR, to check file modes")
    args = ap.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        print("refusing: loopback only", file=sys.stderr)
        return 2
    password = args.password_file.read_text().strip()
    c = httpx.Client(base_url=args.url, timeout=30)

    # Security headers on an API answer and on the web page.
    r = c.get("/api/health")
    page = c.get("/")
    csp = page.headers.get("content-security-policy", "")
    check(
        "CSP without inline script",
        "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0],
    )
    check(
        "nosniff, no-referrer, frame-ancestors",
        page.headers.get("x-content-type-options") == "nosniff"
        and page.headers.get("referrer-policy") == "no-referrer"
        and "frame-ancestors 'none'" in csp,
    )

    # Oversized unauthenticated body: refused before auth, nothing echoed.
    big = b'{"refresh_token": "' + b"A" * (5 * 1024 * 1024) + b'"}'
    r = c.post("/api/auth/refresh", content=big, headers={"content-type": "application/json"})
    check("5 MB body before auth is 413", r.status_code == 413, f"{r.status_code}, {len(r.content)} bytes back")
    r = c.post("/api/auth/refresh", json={"refresh_token": "X" * 2000})
    check("errors do not echo input", "XXXXXXXX" not in r.text, f"{r.status_code}")

    # Password guessing: throttled with Retry-After, then the right password still works from this client later.
    codes = []
    for _ in range(30):
        r = c.post("/api/auth/token", data={"username": args.email, "password": "wrong-password-123"})
        codes.append(r.status_code)
        if r.status_code == 429:
            break
    check(
        "30 wrong passwords are throttled",
        429 in codes and bool(r.headers.get("retry-after")),
        f"{codes.count(401)} x 401 then {codes[-1]}, Retry-After {r.headers.get('retry-after')}",
    )
    wait = int(r.headers.get("retry-after", "0") or 0)
    if 0 < wait <= 120:
        time.sleep(wait + 1)  # the lock's own expiry is what is being checked here, not a synchronisation
    r = c.post("/api/auth/token", data={"username": args.email, "password": password})
    check("the lock expires and the right password works", r.status_code == 200, f"{r.status_code}")
    if r.status_code != 200:
        return _done()
    tok = r.json()
    auth = {"authorization": f"Bearer {tok['access_token']}"}

    # Bearer token in the URL is refused on streams.
    pat = c.post("/api/patients", json={"name": "Attack Check"}, headers=auth).json()["id"]
    r = c.get(f"/api/sessions/{'0' * 8}-0000-0000-0000-{'0' * 12}/status/stream?token={tok['access_token']}")
    check("?token= in a stream URL is refused", r.status_code in (401, 403), f"{r.status_code}")

    def upload(path: Path) -> httpx.Response:
        with path.open("rb") as f:
            files = {"file": (path.name, f, "audio/flac")}
            return c.post("/api/sessions/upload", files=files, data={"patient_id": pat}, headers=auth)

    # A lying header: the limit holds on what decodes.
    tmp = Path(tempfile.mkdtemp())
    try:
        flac = lying_flac(tmp, real_s=40, declared_s=5)
        r = upload(flac)
        check(
            "a FLAC claiming 5 s that decodes 40 s is refused past the limit",
            r.status_code in (400, 413),
            f"{r.status_code} {r.text[:100]}",
        )
        trunc = tmp / "trunc.flac"
        trunc.write_bytes(flac.read_bytes()[:600])
        r = upload(trunc)
        check(
            "a truncated FLAC's error leaks no ffmpeg internals",
            r.status_code == 400 and "0x" not in r.text,
            f"{r.status_code}",
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # Refresh rotation, reuse revokes the family, logout revokes the access token.
    r1 = c.post("/api/auth/refresh", json={"refresh_token": tok["refresh_token"]})
    rotated = r1.json() if r1.status_code == 200 else {}
    check("refresh rotates", r1.status_code == 200 and rotated.get("refresh_token") != tok["refresh_token"])
    r = c.post("/api/auth/logout", headers={"authorization": f"Bearer {rotated.get('access_token', '')}"})
    after = c.get("/api/auth/me", headers={"authorization": f"Bearer {rotated.get('access_token', '')}"})
    reuse = c.post("/api/auth/refresh", json={"refresh_token": rotated.get("refresh_token", "")})
    check(
        "logout revokes access and refresh",
        after.status_code == 401 and reuse.status_code == 401,
        f"me {after.status_code}, refresh {reuse.status_code}",
    )

    if args.data_dir:
        modes = {p: p.stat().st_mode & 0o777 for p in [args.data_dir, *args.data_dir.rglob("*")] if p.exists()}
        loose = [str(p) for p, m in modes.items() if m & 0o077]
        check("data directory private to the service user", not loose, ", ".join(loose[:3]))
    return _done()


def _done() -> int:
    failed = [n for n, ok, _ in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
