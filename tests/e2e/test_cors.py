"""Bucket CORS (issue 3 item 9): Put/Get/DeleteBucketCors with S3's checks,
preflight OPTIONS answered from the rules (no credentials), and the CORS
headers on normal responses to browsers."""

import base64
import json
import zlib

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import Signed, assert_s3_error, err_code

RULES = {
    "CORSRules": [
        {
            "ID": "app",
            "AllowedOrigins": ["https://*.example.com"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["x-amz-*", "Content-Type"],
            "ExposeHeaders": ["ETag", "x-amz-request-id"],
            "MaxAgeSeconds": 600,
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]},
    ]
}


def client_error(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    return err_code(ei.value)


def preflight(server, path, origin, method, headers=None):
    h = {"Access-Control-Request-Method": method}
    if origin is not None:
        h["Origin"] = origin
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return requests.options(server.endpoint + path, headers=h, timeout=10)


def test_cors_configuration_roundtrip(s3, bucket):
    assert client_error(s3.get_bucket_cors, Bucket=bucket) == "NoSuchCORSConfiguration"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got[0]["ID"] == "app"
    assert got[0]["AllowedOrigins"] == ["https://*.example.com"]
    assert got[0]["AllowedMethods"] == ["GET", "PUT"]
    assert got[0]["AllowedHeaders"] == ["x-amz-*", "Content-Type"]
    assert got[0]["ExposeHeaders"] == ["ETag", "x-amz-request-id"]
    assert got[0]["MaxAgeSeconds"] == 600
    assert got[1]["AllowedOrigins"] == ["*"] and got[1]["AllowedMethods"] == ["GET", "HEAD"]
    s3.delete_bucket_cors(Bucket=bucket)
    assert client_error(s3.get_bucket_cors, Bucket=bucket) == "NoSuchCORSConfiguration"
    assert client_error(s3.get_bucket_cors, Bucket="no-such-bucket-cors-e2e") == "NoSuchBucket"


def test_cors_configuration_checks(server, s3, bucket):
    bad_method = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
    assert client_error(s3.put_bucket_cors, Bucket=bucket,
                        CORSConfiguration=bad_method) == "InvalidRequest"
    two_stars = {"CORSRules": [{"AllowedOrigins": ["http://*.*.com"], "AllowedMethods": ["GET"]}]}
    assert client_error(s3.put_bucket_cors, Bucket=bucket,
                        CORSConfiguration=two_stars) == "InvalidRequest"
    many = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101}
    assert client_error(s3.put_bucket_cors, Bucket=bucket,
                        CORSConfiguration=many) == "MalformedXML"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": many["CORSRules"][:100]})
    sig = Signed(server)
    for body in (b"<CORSConfiguration/>",
                 b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>"
                 b"</CORSConfiguration>",
                 b"<CORSConfiguration><CORSRule>"):
        r = sig.request("PUT", f"/{bucket}", query=[("cors", "")], body=body)
        assert_s3_error(r, 400, "MalformedXML")
    assert len(s3.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 100


def test_cors_configuration_checksum_header(server, s3, bucket):
    """PutBucketCors with x-amz-checksum-crc32 (what current SDKs send): checked against the body."""
    sig = Signed(server)
    body = (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
            b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
    crc = zlib.crc32(body).to_bytes(4, "big")
    wrong = zlib.crc32(body + b" ").to_bytes(4, "big")
    r = sig.request("PUT", f"/{bucket}", query=[("cors", "")], body=body,
                    headers={"x-amz-checksum-crc32": base64.b64encode(wrong).decode()})
    assert_s3_error(r, 400, "BadDigest")
    assert client_error(s3.get_bucket_cors, Bucket=bucket) == "NoSuchCORSConfiguration"
    r = sig.request("PUT", f"/{bucket}", query=[("cors", "")], body=body,
                    headers={"x-amz-checksum-crc32": base64.b64encode(crc).decode()})
    assert r.status_code == 200, r.text
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedMethods"] == ["GET"]
    s3.delete_bucket_cors(Bucket=bucket)


def test_preflight(server, s3, bucket):
    path = f"/{bucket}/some/key"
    r = preflight(server, path, "https://app.example.com", "PUT")
    assert_s3_error(r, 403, "AccessForbidden")  # no configuration yet
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    r = preflight(server, path, "https://app.example.com", "PUT", "content-type, x-amz-date")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert r.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-date"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    assert r.headers["Access-Control-Max-Age"] == "600"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in r.headers["Vary"]
    # the bucket itself (a browser POST upload's preflight)
    r = preflight(server, f"/{bucket}", "https://x.example.com", "GET")
    assert r.status_code == 200
    # the second rule: any origin, GET and HEAD only, answered with "*"
    r = preflight(server, path, "https://elsewhere.org", "GET")
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    for origin, method, hdrs in [("https://elsewhere.org", "PUT", None),
                                 ("https://app.example.com", "DELETE", None),
                                 ("https://app.example.com", "PUT", "authorization")]:
        r = preflight(server, path, origin, method, hdrs)
        assert_s3_error(r, 403, "AccessForbidden")
    r = preflight(server, path, None, "GET")
    assert_s3_error(r, 400, "BadRequest")
    r = preflight(server, "/no-such-bucket-cors-e2e/k", "https://a.example.com", "GET")
    assert_s3_error(r, 403, "AccessForbidden")


def test_cors_headers_on_responses(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    r = requests.get(url, headers={"Origin": "https://app.example.com"}, timeout=10)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    r = requests.get(url, headers={"Origin": "https://app.example.com"}, timeout=10)
    assert r.status_code == 200 and r.content == b"hello"
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in r.headers["Vary"]
    r = requests.get(url, timeout=10)  # no Origin: no CORS headers
    assert "Access-Control-Allow-Origin" not in r.headers
    # a PUT from an origin of the first rule; a DELETE no rule allows gets only Vary
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k2"})
    r = requests.put(put_url, data=b"from a browser",
                     headers={"Origin": "https://app.example.com"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    del_url = s3.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "k2"})
    r = requests.delete(del_url, headers={"Origin": "https://app.example.com"}, timeout=10)
    assert r.status_code == 204
    assert "Access-Control-Allow-Origin" not in r.headers and "Origin" in r.headers["Vary"]
    # deleting the configuration takes effect at once on this node
    s3.delete_bucket_cors(Bucket=bucket)
    r = requests.get(url, headers={"Origin": "https://app.example.com"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in r.headers


def test_cors_with_aws_cli(aws_cli, s3, bucket, tmp_path):
    cfg = tmp_path / "cors.json"
    cfg.write_text(json.dumps(RULES))
    aws_cli("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration",
            f"file://{cfg}")
    r = aws_cli("s3api", "get-bucket-cors", "--bucket", bucket)
    assert json.loads(r.stdout)["CORSRules"][0]["AllowedOrigins"] == ["https://*.example.com"]
    aws_cli("s3api", "delete-bucket-cors", "--bucket", bucket)
    r = aws_cli("s3api", "get-bucket-cors", "--bucket", bucket, check=False)
    assert r.returncode != 0 and b"NoSuchCORSConfiguration" in r.stderr
