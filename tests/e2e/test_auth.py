"""SigV4: header auth, presigned URLs, clock skew, wrong and forged
signatures, anonymous requests; root credentials from the environment and
the development credentials on loopback."""

import subprocess
import time
import urllib.parse

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import helpers
from helpers import (BIN, DEV_KEY, Signed, UNSIGNED, amz_now, assert_s3_error, err_code,
                     get_bytes, http_status, make_client, md5hex, presign, rand_bytes, sha,
                     sign_headers, xml_error, TIME_SCALE)


def test_own_signer_matches_botocore():
    """Our forging signer (helpers.sign_headers) agrees with botocore's."""
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    body = b"hello world"
    for path, query in [("/bucket/key with space/\u00e9+(x)", []),
                        ("/bucket", [("list-type", "2"), ("prefix", "a b/c"), ("delimiter", "/")])]:
        url = "http://127.0.0.1:9300" + helpers.uri_encode(path, True)
        if query:
            url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        req = AWSRequest(method="PUT", url=url, data=body, headers={"X-Amz-Meta-A": "1  2"})
        S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
        date = req.headers["X-Amz-Date"]
        ours = sign_headers("PUT", "127.0.0.1:9300", path, query, {"x-amz-meta-a": "1  2"},
                            sha(body), creds.access_key, creds.secret_key, amzdate=date)
        theirs = req.headers["Authorization"]
        assert ours["authorization"] == theirs, (ours["authorization"], theirs)


def test_signed_request_roundtrip(server, s3, bucket):
    data = rand_bytes(10_000, seed=1)
    r = Signed(server).request("PUT", f"/{bucket}/signed key é", body=data,
                               headers={"x-amz-meta-who": "me"})
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-request-id"]
    assert sha(get_bytes(s3, bucket, "signed key é")) == sha(data)
    r = Signed(server).request("GET", f"/{bucket}/signed key é")
    assert r.status_code == 200 and r.content == data
    assert r.headers["x-amz-meta-who"] == "me"


def test_anonymous_denied(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"top secret")
    for method, path in [("GET", f"/{bucket}/secret"), ("GET", f"/{bucket}"), ("GET", "/"),
                         ("PUT", f"/{bucket}/anon"), ("DELETE", f"/{bucket}/secret")]:
        r = requests.request(method, server.endpoint + path, data=b"x" if method == "PUT" else None,
                             timeout=10)
        assert_s3_error(r, 403, "AccessDenied")
        assert b"top secret" not in r.content
    assert get_bytes(s3, bucket, "secret") == b"top secret"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="anon")


def test_wrong_secret(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    bad = make_client(server.endpoint, server.access_key, server.secret_key + "x")
    with pytest.raises(ClientError) as ei:
        bad.get_object(Bucket=bucket, Key="k")
    assert err_code(ei.value) == "SignatureDoesNotMatch"
    assert http_status(ei.value) == 403
    r = Signed(server, sk="wrong-secret-123").request("PUT", f"/{bucket}/k", body=b"overwritten")
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    assert get_bytes(s3, bucket, "k") == b"v"


def test_unknown_access_key(server, bucket):
    r = Signed(server, ak="NOSUCHKEY123", sk="whatever-secret").request("GET", f"/{bucket}")
    assert_s3_error(r, 403, "InvalidAccessKeyId")


def test_signature_over_other_headers(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    sig = Signed(server)
    # a signed header whose value changed after signing
    r = sig.request("PUT", f"/{bucket}/k", body=b"changed", headers={"x-amz-meta-a": "1"},
                    send_headers={"x-amz-meta-a": "2"})
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    # SignedHeaders names a header that is not sent
    r = sig.request("PUT", f"/{bucket}/k", body=b"changed", headers={"x-amz-meta-b": "1"},
                    send_headers={"x-amz-meta-b": None})
    assert r.status_code in (400, 403), r.text
    # a signature computed over other headers than those listed
    h = sign_headers("GET", sig.host, f"/{bucket}/k", [], {"x-amz-meta-c": "1"}, UNSIGNED,
                     server.access_key, server.secret_key)
    auth = h["authorization"].replace(";x-amz-meta-c", "")
    assert auth != h["authorization"]
    h.pop("x-amz-meta-c")
    h["authorization"] = auth
    r = requests.get(f"{server.endpoint}/{bucket}/k", headers=h, timeout=10)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    # another path than the one signed
    h = sign_headers("GET", sig.host, f"/{bucket}/other", [], {}, UNSIGNED,
                     server.access_key, server.secret_key)
    r = requests.get(f"{server.endpoint}/{bucket}/k", headers=h, timeout=10)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    # host not signed: refused (SigV4 requires host among the signed headers)
    r = sig.request("GET", f"/{bucket}/k", signed=["x-amz-content-sha256", "x-amz-date"])
    assert r.status_code in (400, 403), r.text
    assert get_bytes(s3, bucket, "k") == b"original"


def test_malformed_authorization(server, bucket):
    for auth in ["AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=x", "Bearer abc",
                 "AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=zz",
                 "AWS4-HMAC-SHA256 Credential=" + "A" * 5000 + ", SignedHeaders=host, Signature=0"]:
        h = {"x-amz-date": amz_now(), "x-amz-content-sha256": UNSIGNED, "Authorization": auth}
        r = requests.get(f"{server.endpoint}/{bucket}", headers=h, timeout=10)
        assert r.status_code in (400, 403), (auth, r.status_code, r.text)
        assert r.headers.get("x-amz-request-id")
        assert helpers.xml_error(r.content)["Code"] in (
            "AuthorizationHeaderMalformed", "AccessDenied", "InvalidAccessKeyId",
            "SignatureDoesNotMatch", "InvalidArgument", "InvalidRequest")


@pytest.mark.parametrize("offset,ok", [(-20 * 60, False), (20 * 60, False), (-10 * 60, True),
                                       (10 * 60, True)])
def test_clock_skew(server, s3, bucket, offset, ok):
    s3.put_object(Bucket=bucket, Key="k", Body=b"skew")
    r = Signed(server).request("GET", f"/{bucket}/k", amzdate=amz_now(offset))
    if ok:
        assert r.status_code == 200 and r.content == b"skew"
    else:
        assert_s3_error(r, 403, "RequestTimeTooSkewed")


def test_sigv4_date_header_numeric_zone(server, s3, bucket):
    """SigV4 takes the Date header when there is no x-amz-date. botocore,
    given a Date header (s3-tests test_object_create_date_and_amz_date,
    _amz_date_and_no_date), replaces it with email.utils.formatdate(), whose
    zone is "-0000" (UTC per RFC 2822); "+0000" is the form of S3's own
    examples. Both were refused as malformed (AuthorizationHeaderMalformed)."""
    def with_date(**kw):
        kw["params"]["headers"]["Date"] = "placeholder"  # botocore writes its own

    s3.meta.events.register("before-call.s3.PutObject", with_date)
    try:
        s3.put_object(Bucket=bucket, Key="dated", Body=b"bar")
    finally:
        s3.meta.events.unregister("before-call.s3.PutObject", with_date)
    assert get_bytes(s3, bucket, "dated") == b"bar"
    sig = Signed(server)
    for zone in ("-0000", "+0000"):
        now = time.gmtime()
        date = time.strftime("%a, %d %b %Y %H:%M:%S ", now) + zone
        h = sign_headers("GET", sig.host, f"/{bucket}/dated", [], {"date": date}, UNSIGNED,
                         sig.ak, sig.sk, amzdate=time.strftime("%Y%m%dT%H%M%SZ", now),
                         signed=["date", "host", "x-amz-content-sha256"])
        h["x-amz-date"] = None  # only Date dates the request
        h = {k: v for k, v in h.items() if v is not None}
        r = requests.get(f"{server.endpoint}/{bucket}/dated", headers=h, timeout=30)
        assert r.status_code == 200 and r.content == b"bar", (zone, r.text)


def test_presigned_get_put(server, s3, bucket):
    data = rand_bytes(1_200_000, seed=3)
    s3.put_object(Bucket=bucket, Key="pre", Body=data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"},
                                    ExpiresIn=300)
    r = requests.get(url, timeout=30)
    assert r.status_code == 200 and sha(r.content) == sha(data)
    up = rand_bytes(3 * 1024 * 1024 + 9, seed=4)
    purl = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre-up"},
                                     ExpiresIn=300)
    r = requests.put(purl, data=up, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == f'"{md5hex(up)}"'
    assert sha(get_bytes(s3, bucket, "pre-up")) == sha(up)
    # our own presigner, 7 days (the maximum)
    u = presign("GET", f"127.0.0.1:{server.port}", f"/{bucket}/pre", server.access_key,
                server.secret_key, expires=7 * 24 * 3600)
    r = requests.get(server.endpoint + u, timeout=30)
    assert r.status_code == 200 and sha(r.content) == sha(data)


def test_presigned_expired(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="pre", Body=b"payload")
    host = f"127.0.0.1:{server.port}"
    u = presign("GET", host, f"/{bucket}/pre", server.access_key, server.secret_key, expires=60,
                amzdate=amz_now(-3600))
    r = requests.get(server.endpoint + u, timeout=10)
    e = assert_s3_error(r, 403, "AccessDenied")
    assert b"payload" not in r.content
    assert "expire" in e.get("Message", "").lower()
    # boto3's own URL, expired by waiting
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"},
                                    ExpiresIn=1)
    time.sleep(2.2)
    r = requests.get(url, timeout=10)
    assert_s3_error(r, 403, "AccessDenied")


def test_presigned_expires_too_long(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="pre", Body=b"payload")
    u = presign("GET", f"127.0.0.1:{server.port}", f"/{bucket}/pre", server.access_key,
                server.secret_key, expires=7 * 24 * 3600 + 1)
    r = requests.get(server.endpoint + u, timeout=10)
    assert r.status_code in (400, 403)
    assert b"payload" not in r.content
    assert helpers.xml_error(r.content)["Code"] in ("AuthorizationQueryParametersError",
                                                     "AccessDenied", "InvalidArgument")


def test_presigned_expires_out_of_range_messages(server, s3, bucket):
    """S3 refuses an X-Amz-Expires out of range before checking the time:
    400 AuthorizationQueryParametersError, "X-Amz-Expires must be
    non-negative" for a negative one (what botocore sends for a negative
    ExpiresIn; s3-tests test_object_raw_put_authenticated_expired expects rgw's
    403, AWS answers this 400) and "... less than a week ..." past 604800.
    Both had one generic message."""
    s3.put_object(Bucket=bucket, Key="pre", Body=b"payload")
    u = presign("PUT", f"127.0.0.1:{server.port}", f"/{bucket}/pre", server.access_key,
                server.secret_key, expires=-1000)
    e = assert_s3_error(requests.put(server.endpoint + u, data=b"other", timeout=10), 400,
                        "AuthorizationQueryParametersError")
    assert e["Message"] == "X-Amz-Expires must be non-negative"
    u = presign("GET", f"127.0.0.1:{server.port}", f"/{bucket}/pre", server.access_key,
                server.secret_key, expires=609901)
    e = assert_s3_error(requests.get(server.endpoint + u, timeout=10), 400,
                        "AuthorizationQueryParametersError")
    assert "less than a week" in e["Message"]
    assert get_bytes(s3, bucket, "pre") == b"payload"


def test_presigned_tampered(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="pre", Body=b"payload")
    s3.put_object(Bucket=bucket, Key="other", Body=b"not yours")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"},
                                    ExpiresIn=300)
    assert requests.get(url, timeout=10).content == b"payload"
    tampered = [
        url.replace("/pre?", "/other?"),                         # another key
        url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000"),  # longer life
    ]
    p = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(p.query)
    q2 = [(k, (v[:-1] + ("0" if v[-1] != "0" else "1")) if k == "X-Amz-Signature" else v)
          for k, v in q]
    tampered.append(urllib.parse.urlunsplit(p._replace(query=urllib.parse.urlencode(q2))))
    tampered.append(url + "&extra=1")                            # an unsigned parameter
    for t in tampered:
        assert t != url
        r = requests.get(t, timeout=10)
        assert_s3_error(r, 403, "SignatureDoesNotMatch")
        assert b"not yours" not in r.content and b"payload" not in r.content
    # a presigned GET URL cannot be used to PUT
    r = requests.put(url, data=b"evil", timeout=10)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    assert get_bytes(s3, bucket, "pre") == b"payload"


def test_dev_credentials_on_loopback(fresh_server, request):
    srv = fresh_server(creds=False)
    log = srv.log_text()
    assert DEV_KEY in log, log[-2000:]
    c = srv.client()
    from conftest import bucket_name
    b = bucket_name(request.node.name)
    c.create_bucket(Bucket=b)
    c.put_object(Bucket=b, Key="k", Body=b"dev")
    assert get_bytes(c, b, "k") == b"dev"
    # the env credentials of other tests do not work here
    bad = make_client(srv.endpoint, helpers.ACCESS_KEY, helpers.SECRET_KEY)
    with pytest.raises(ClientError) as ei:
        bad.get_object(Bucket=b, Key="k")
    assert http_status(ei.value) == 403


def _run_server(args, env_creds, timeout=15):
    import os
    env = dict(os.environ)
    env.pop("BASALT_ROOT_USER", None)
    env.pop("BASALT_ROOT_PASSWORD", None)
    env.update(env_creds)
    p = subprocess.Popen([BIN, "server", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env)
    try:
        out, _ = p.communicate(timeout=timeout * TIME_SCALE)
        return p.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate(timeout=10)
        return None, out.decode(errors="replace")


def test_refuses_public_address_without_credentials(tmp_path):
    port = helpers.free_port()
    rc, out = _run_server(["--address", f"0.0.0.0:{port}", f"{tmp_path}/d{{1...4}}"], {})
    assert rc == 2, f"status {rc}, output:\n{out}"
    assert "BASALT_ROOT_USER" in out or "credential" in out.lower(), out
    assert not (tmp_path / "d1" / ".basalt" / "format.json").exists()


@pytest.mark.parametrize("user,password", [("ab", "longenough"), ("admin", "short7!")])
def test_refuses_weak_credentials(tmp_path, user, password):
    port = helpers.free_port()
    rc, out = _run_server(["--address", f"127.0.0.1:{port}", f"{tmp_path}/d{{1...4}}"],
                          {"BASALT_ROOT_USER": user, "BASALT_ROOT_PASSWORD": password})
    assert rc not in (None, 0), f"status {rc}, output:\n{out}"


def test_unsigned_amz_headers_refused(server, s3, bucket):
    """S3 refuses x-amz-* headers left out of the signature: a presigned PUT URL's holder
    cannot add tags, metadata or a copy source its signer never allowed."""
    s3.put_object(Bucket=bucket, Key="secret", Body=b"not for the URL holder")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"},
                                    ExpiresIn=300)
    for extra in ({"x-amz-copy-source": f"/{bucket}/secret"}, {"x-amz-tagging": "a=1"},
                  {"x-amz-meta-owner": "mallory"}, {"X-Amz-Storage-Class": "REDUCED_REDUNDANCY"}):
        r = requests.put(url, data=b"payload", headers=extra, timeout=30)
        assert_s3_error(r, 403, "AccessDenied")
        assert "not signed" in xml_error(r.content)["Message"]
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="up")
    # x-amz-content-sha256 may stay unsigned, as in S3
    r = requests.put(url, data=b"payload", headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
                     timeout=30)
    assert r.status_code == 200, r.text
    assert get_bytes(s3, bucket, "up") == b"payload"
    # header authentication: a header added after signing
    r = Signed(server).request("PUT", f"/{bucket}/hdr", body=b"x",
                               send_headers={"x-amz-meta-late": "1"})
    assert_s3_error(r, 403, "AccessDenied")
    r = Signed(server).request("PUT", f"/{bucket}/hdr", body=b"x", headers={"x-amz-meta-ok": "1"})
    assert r.status_code == 200, r.text
