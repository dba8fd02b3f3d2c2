"""Issue 13, defects 4 and 6: security headers on every response (CSP without inline script, nosniff,
frame-ancestors, Referrer-Policy, no-store on patient data, HSTS behind TLS), X-Forwarded-* believed
only from trusted proxies, so the admin codec cookie is Secure behind a TLS proxy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.gateway import local_gateway
from therapybridge.api.app import STATIC_DIR


def _cookie(headers: list[str], name: str) -> str:
    return next(h for h in headers if h.startswith(f"{name}="))


async def test_security_headers_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, _ = await gw.token()
        async with gw.client(token) as c:
            for path in ("/", "/js/app.js", "/api/patients", "/api/health"):
                r = await c.get(path)
                csp = r.headers["content-security-policy"]
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
                assert "frame-ancestors 'none'" in csp
                assert r.headers["x-content-type-options"] == "nosniff"
                assert r.headers["referrer-policy"] == "no-referrer"
                assert "strict-transport-security" not in r.headers  # plain HTTP: HSTS would be ignored
            assert (await c.get("/api/patients")).headers["cache-control"] == "no-store"
            assert (await c.get("/api/auth/me")).headers["cache-control"] == "no-store"


def test_the_web_app_has_no_inline_script() -> None:
    """What the CSP forbids must not be what the web app needs."""
    for page in STATIC_DIR.rglob("*.html"):
        html = page.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"inline script in {page.name}"
        assert not re.search(r"\son[a-z]+\s*=", html), f"inline event handler in {page.name}"
        assert "javascript:" not in html


async def test_behind_a_trusted_tls_proxy_cookie_is_secure_and_hsts_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with local_gateway(tmp_path, monkeypatch, FORWARDED_ALLOW_IPS="10.0.0.1") as gw:
        email, password, _ = await gw.account("admin")
        form = {"username": email, "password": password}
        tls = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7"}
        async with gw.client(ip="10.0.0.1") as c:
            r = await c.post("/api/auth/token", data=form, headers=tls)
            assert r.status_code == 200
            assert "secure" in _cookie(r.headers.get_list("set-cookie"), "tb_codec").lower()
            assert r.headers["strict-transport-security"].startswith("max-age=")
        async with gw.client(ip="10.6.6.6") as c:  # not the proxy: its X-Forwarded-Proto is a lie
            r = await c.post("/api/auth/token", data=form, headers=tls)
            assert r.status_code == 200
            assert "secure" not in _cookie(r.headers.get_list("set-cookie"), "tb_codec").lower()
            assert "strict-transport-security" not in r.headers


async def test_docs_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch, API_DOCS="false") as gw, gw.client() as c:
        assert (await c.get("/docs")).status_code == 404
        assert (await c.get("/redoc")).status_code == 404
