"""Auth exactly as WooCommerce: OAuth 1.0a over http, Basic or query keys only over https."""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx
import pytest

from sandbox.testing import OAuth1, oauth1_sign


def _url(sb, path: str = "/products") -> str:
    return sb.urls["woocommerce"] + "/wp-json/wc/v3" + path


def _creds(sb) -> tuple[str, str]:
    c = sb.credentials["woocommerce"]
    return c["consumer_key"], c["consumer_secret"]


def test_woocommerce_package_signs_oauth_over_http(shared_sb, api) -> None:
    r = api.get("products", params={"per_page": 3})
    assert r.status_code == 200
    assert len(r.json()) == 3


@pytest.mark.parametrize("method", ["HMAC-SHA1", "HMAC-SHA256"])
def test_both_signature_methods_accepted(shared_sb, method) -> None:
    key, secret = _creds(shared_sb)
    r = httpx.get(_url(shared_sb), auth=OAuth1(key, secret, signature_method=method))
    assert r.status_code == 200


def test_oauth_in_authorization_header(shared_sb) -> None:
    key, secret = _creds(shared_sb)
    params = oauth1_sign("GET", _url(shared_sb), key, secret)
    header = "OAuth " + ", ".join(f'{k}="{quote(v, safe="")}"' for k, v in params)
    r = httpx.get(_url(shared_sb), headers={"Authorization": header})
    assert r.status_code == 200, r.text


def _err(r: httpx.Response) -> tuple[int, str, str]:
    body = r.json()
    assert body["data"]["status"] == r.status_code
    return r.status_code, body["code"], body["message"]


def test_unknown_key(shared_sb) -> None:
    r = httpx.get(_url(shared_sb), auth=OAuth1("ck_nope", "cs_nope"))
    assert _err(r) == (401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")


def test_bad_signature(shared_sb) -> None:
    key, _ = _creds(shared_sb)
    r = httpx.get(_url(shared_sb), auth=OAuth1(key, "cs_wrong"))
    assert _err(r) == (
        401,
        "woocommerce_rest_authentication_error",
        "Invalid signature - provided signature does not match.",
    )


def test_signature_covers_query_params(shared_sb) -> None:
    key, secret = _creds(shared_sb)
    signed = oauth1_sign("GET", _url(shared_sb), key, secret, params=[("per_page", "5")])
    tampered = [(k, "6" if k == "per_page" else v) for k, v in signed]
    assert httpx.get(_url(shared_sb), params=signed).status_code == 200
    assert httpx.get(_url(shared_sb), params=tampered).status_code == 401


@pytest.mark.parametrize("skew", [-16 * 60, 16 * 60])
def test_stale_or_future_timestamp(shared_sb, skew) -> None:
    key, secret = _creds(shared_sb)
    r = httpx.get(_url(shared_sb), auth=OAuth1(key, secret, timestamp=int(time.time()) + skew))
    assert _err(r) == (401, "woocommerce_rest_authentication_error", "Invalid timestamp.")


def test_timestamp_inside_window_accepted(shared_sb) -> None:
    key, secret = _creds(shared_sb)
    r = httpx.get(_url(shared_sb), auth=OAuth1(key, secret, timestamp=int(time.time()) - 14 * 60))
    assert r.status_code == 200


def test_reused_nonce_refused(shared_sb) -> None:
    key, secret = _creds(shared_sb)
    params = oauth1_sign("GET", _url(shared_sb), key, secret, nonce="n0nce-reuse-test")
    assert httpx.get(_url(shared_sb), params=params).status_code == 200
    r = httpx.get(_url(shared_sb), params=params)
    assert _err(r) == (
        401,
        "woocommerce_rest_authentication_error",
        "Invalid nonce - nonce has already been used.",
    )


def test_partial_oauth_params(shared_sb) -> None:
    r = httpx.get(_url(shared_sb), params={"oauth_consumer_key": "ck_x", "oauth_nonce": "n"})
    code, err, msg = _err(r)
    assert (code, err) == (401, "woocommerce_rest_authentication_missing_parameter")
    assert msg == "Missing OAuth parameters oauth_timestamp, oauth_signature, oauth_signature_method"


def test_basic_over_http_is_ignored(shared_sb) -> None:
    r = httpx.get(_url(shared_sb), auth=_creds(shared_sb))
    assert _err(r) == (401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")


def test_query_keys_over_http_are_ignored(shared_sb) -> None:
    key, secret = _creds(shared_sb)
    r = httpx.get(_url(shared_sb), params={"consumer_key": key, "consumer_secret": secret})
    assert r.status_code == 401


def test_no_credentials_per_action(shared_sb) -> None:
    assert _err(httpx.get(_url(shared_sb, "/orders/1")))[1] == "woocommerce_rest_cannot_view"
    assert _err(httpx.post(_url(shared_sb), json={}))[1] == "woocommerce_rest_cannot_create"
    assert _err(httpx.put(_url(shared_sb, "/products/11"), json={}))[1] == "woocommerce_rest_cannot_edit"
    assert _err(httpx.delete(_url(shared_sb, "/products/11")))[1] == "woocommerce_rest_cannot_delete"
    assert _err(httpx.post(_url(shared_sb, "/products/batch"), json={}))[1] == "woocommerce_rest_cannot_batch"


def test_basic_over_https_accepted(tls_sb) -> None:
    r = httpx.get(_url(tls_sb), auth=_creds(tls_sb), verify=tls_sb.ssl_context())
    assert r.status_code == 200
    assert r.headers["X-WP-Total"]


def test_query_keys_over_https_accepted(tls_sb) -> None:
    key, secret = _creds(tls_sb)
    params = {"consumer_key": key, "consumer_secret": secret}
    r = httpx.get(_url(tls_sb), params=params, verify=tls_sb.ssl_context())
    assert r.status_code == 200


def test_wrong_secret_over_https(tls_sb) -> None:
    key, _ = _creds(tls_sb)
    r = httpx.get(_url(tls_sb), auth=(key, "cs_wrong"), verify=tls_sb.ssl_context())
    assert _err(r) == (401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")


def test_woocommerce_package_basic_over_https(tls_sb, make_api) -> None:
    api = make_api(tls_sb)
    r = api.get("orders", params={"per_page": 2})
    assert r.status_code == 200 and len(r.json()) == 2
    api_q = make_api(tls_sb, query_string_auth=True)
    assert api_q.get("customers").status_code == 200


def test_read_only_key_cannot_write(shared_sb) -> None:
    c = shared_sb.credentials["woocommerce"]
    auth = OAuth1(c["read_only_consumer_key"], c["read_only_consumer_secret"])
    assert httpx.get(_url(shared_sb), auth=auth).status_code == 200
    r = httpx.post(_url(shared_sb), json={"name": "x"}, auth=auth)
    assert _err(r) == (
        401,
        "woocommerce_rest_authentication_error",
        "The API key provided does not have write permissions.",
    )


def test_index_and_options_need_no_auth(shared_sb) -> None:
    assert httpx.get(shared_sb.urls["woocommerce"] + "/wp-json/wc/v3").status_code == 200
    assert httpx.options(_url(shared_sb)).status_code == 200
