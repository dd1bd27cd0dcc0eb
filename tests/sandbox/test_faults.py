"""Fault injection (latency, 5xx bodies, 429, slow, drop, concurrency cap), stats and the admin API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sandbox._framework import Faults
from sandbox.testing import woocommerce_client

_HTTP = httpx.Client()  # one client: building an SSL context per call costs ~30 ms


def _get(sb, path: str = "/wp-json/wc/v3", **kw) -> httpx.Response:
    if "timeout" in kw:
        return httpx.get(sb.urls["woocommerce"] + path, **kw)
    return _HTTP.get(sb.urls["woocommerce"] + path, **kw)


def test_scripted_errors_have_host_bodies(fresh_sb) -> None:
    fresh_sb.set_faults(script=[500, 502, 503, 429, "ok"])
    r500, r502, r503, r429, ok = (_get(fresh_sb) for _ in range(5))
    assert r500.status_code == 500
    assert r500.json()["code"] == "internal_server_error"
    assert "critical error" in r500.json()["message"]
    assert r502.status_code == 502 and "<center>nginx</center>" in r502.text
    assert r502.headers["content-type"].startswith("text/html")
    assert r503.status_code == 503 and "Service Temporarily Unavailable" in r503.text
    assert r429.status_code == 429 and r429.headers["Retry-After"] == "1"
    assert ok.status_code == 200


def test_error_rate(fresh_sb) -> None:
    fresh_sb.set_faults(error_rate=1.0, error_statuses=[502])
    assert {_get(fresh_sb).status_code for _ in range(5)} == {502}
    fresh_sb.set_faults(error_rate=0.5, seed=3)
    codes = [_get(fresh_sb).status_code for _ in range(40)]
    assert 0 < codes.count(200) < 40


def test_rate_limit_answers_429_with_retry_after(fresh_sb) -> None:
    fresh_sb.set_faults(rate_limit_rpm=3)
    codes = [_get(fresh_sb) for _ in range(5)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
    assert 1 <= int(codes[3].headers["Retry-After"]) <= 60
    stats = httpx.get(fresh_sb.admin_url() + "/stats").json()
    assert stats["by_status"]["429"] == 2 and stats["faults"]["429"] == 2


def test_slow_response_times_out_the_client(fresh_sb) -> None:
    fresh_sb.set_faults(script=["slow"], slow_ms=3000)
    with pytest.raises(httpx.ReadTimeout):
        _get(fresh_sb, timeout=0.2)
    assert _get(fresh_sb).status_code == 200


def test_dropped_connection(fresh_sb) -> None:
    fresh_sb.set_faults(script=["drop"])
    with pytest.raises(httpx.RemoteProtocolError):
        _get(fresh_sb)
    assert _get(fresh_sb).status_code == 200
    assert not fresh_sb.woocommerce.errors


def test_latency_overlaps_concurrent_requests(fresh_sb) -> None:
    fresh_sb.set_faults(latency_ms=150)
    httpx.delete(fresh_sb.admin_url() + "/stats")
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda _: _get(fresh_sb).status_code, range(6)))
    assert codes == [200] * 6
    assert httpx.get(fresh_sb.admin_url() + "/stats").json()["max_in_flight"] >= 2


def test_concurrency_cap(fresh_sb) -> None:
    fresh_sb.set_faults(latency_ms=60, max_concurrency=2)
    httpx.delete(fresh_sb.admin_url() + "/stats")
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: _get(fresh_sb).status_code, range(8)))
    assert codes == [200] * 8
    stats = httpx.get(fresh_sb.admin_url() + "/stats").json()
    assert stats["max_in_flight"] <= 2 and stats["total"] == 8


def test_faults_can_target_paths(fresh_sb) -> None:
    fresh_sb.set_faults(error_rate=1.0, paths=["/orders"])
    with woocommerce_client(fresh_sb) as c:
        assert c.get("/products").status_code == 200
        assert c.get("/orders").status_code >= 500


def test_stats_by_path_and_status(fresh_sb) -> None:
    httpx.post(fresh_sb.admin_url() + "/stats/reset")
    with woocommerce_client(fresh_sb) as c:
        c.get("/products")
        c.get("/products")
        c.get("/products/999999")
    stats = httpx.get(fresh_sb.admin_url() + "/stats", params={"recent": 1}).json()
    assert stats["by_path_status"]["/wp-json/wc/v3/products"] == {"200": 2}
    assert stats["by_path_status"]["/wp-json/wc/v3/products/999999"] == {"404": 1}
    assert stats["total"] == 3 and len(stats["recent"]) == 3
    assert "per_page" not in stats["recent"][0]["query"]


def test_admin_is_never_faulted_nor_counted(fresh_sb) -> None:
    fresh_sb.set_faults(error_rate=1.0)
    assert httpx.get(fresh_sb.admin_url() + "/stats").json()["total"] == 0
    assert httpx.get(fresh_sb.admin_url() + "/").status_code == 200


def test_admin_sets_faults(fresh_sb) -> None:
    admin = fresh_sb.admin_url()
    assert httpx.put(admin + "/faults", json={"latency_ms": 5}).json()["latency_ms"] == 5
    patched = httpx.patch(admin + "/faults", json={"error_rate": 0.25}).json()
    assert (patched["latency_ms"], patched["error_rate"]) == (5, 0.25)
    bad = httpx.put(admin + "/faults", json={"latncy_ms": 5})
    assert bad.status_code == 400 and "latncy_ms" in bad.json()["error"]
    assert httpx.put(admin + "/faults", json={"error_rate": 7}).status_code == 400
    assert httpx.put(admin + "/faults", content=b"{").status_code >= 400
    assert httpx.delete(admin + "/faults").json()["error_rate"] == 0


def test_faults_validate() -> None:
    with pytest.raises(ValueError):
        Faults(drop_rate=-1)
    with pytest.raises(ValueError):
        Faults(script=["explode"])
    with pytest.raises(ValueError):
        Faults.from_dict({"nope": 1})


def test_faults_at_start(make_sb) -> None:
    sb = make_sb(faults={"woocommerce": {"script": [503]}})
    assert _get(sb).status_code == 503
    assert _get(sb).status_code == 200


def test_garbage_requests_never_crash(fresh_sb) -> None:
    base = fresh_sb.urls["woocommerce"] + "/wp-json/wc/v3"
    with woocommerce_client(fresh_sb) as c:
        for path, params in [
            ("/products", {"include": "a,b"}),
            ("/products", {"orderby": "nonsense"}),
            ("/orders", {"customer": "x"}),
            ("/products/abc", {}),
            ("/orders/1/refunds/abc", {}),
        ]:
            assert c.get(path, params=params).status_code in (400, 404)
        assert (
            c.put(
                "/products/11", content=b"\xff\xfe", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )
        assert c.post("/products/batch", json={"create": "no"}).status_code == 400
        assert c.post("/products/batch", json=[1, 2]).status_code == 400
        assert c.post("/webhooks", json={"topic": 5, "delivery_url": "x"}).status_code == 400
    assert httpx.get(base, params={"oauth_consumer_key": "x" * 5000}).status_code == 401
    assert not fresh_sb.woocommerce.errors
