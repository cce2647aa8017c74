"""The S3 error document (Code, Message, Resource, RequestId), the right status
for each failure, and x-amz-request-id on every response."""

import socket
import xml.etree.ElementTree as ET

import requests

from helpers import (Signed, assert_s3_error, get_bytes, rand_bytes, recv_response,
                     xml_error)


def test_error_document_shape(server, bucket):
    r = Signed(server).request("GET", f"/{bucket}/missing/key")
    assert r.status_code == 404
    assert r.headers.get("Content-Type", "").startswith(("application/xml", "text/xml"))
    root = ET.fromstring(r.content)
    assert root.tag == "Error"
    fields = {c.tag: c.text for c in root}
    assert fields["Code"] == "NoSuchKey"
    assert fields.get("Message")
    assert fields.get("Resource") and "missing/key" in fields["Resource"]
    assert fields.get("RequestId") == r.headers["x-amz-request-id"]


def test_request_id_on_every_response(server, s3, bucket):
    data = rand_bytes(3000, seed=1)
    s3.put_object(Bucket=bucket, Key="k", Body=data)
    sig = Signed(server)
    responses = [
        sig.request("GET", "/"),
        sig.request("GET", f"/{bucket}"),
        sig.request("GET", f"/{bucket}", query=[("list-type", "2")]),
        sig.request("HEAD", f"/{bucket}"),
        sig.request("GET", f"/{bucket}", query=[("location", "")]),
        sig.request("PUT", f"/{bucket}/k2", body=data),
        sig.request("GET", f"/{bucket}/k"),
        sig.request("GET", f"/{bucket}/k", headers={"Range": "bytes=0-9"}),
        sig.request("HEAD", f"/{bucket}/k"),
        sig.request("DELETE", f"/{bucket}/k2"),
        sig.request("GET", f"/{bucket}/nokey"),
        sig.request("HEAD", f"/{bucket}/nokey"),
        sig.request("GET", "/nobucket-rid-e2e/k"),
        sig.request("GET", f"/{bucket}/k", headers={"Range": "bytes=99999-"}),
        sig.request("GET", f"/{bucket}/k", query=[("tagging", "")]),
        requests.get(f"{server.endpoint}/{bucket}/k", timeout=10),  # anonymous
        Signed(server, sk="wrong-secret-123").request("GET", f"/{bucket}/k"),
        sig.request("PUT", "/Bad_Bucket"),
    ]
    ids = []
    for r in responses:
        rid = r.headers.get("x-amz-request-id")
        assert rid, f"{r.request.method} {r.request.url} -> {r.status_code} without x-amz-request-id"
        ids.append(rid)
        if r.status_code >= 400 and r.request.method != "HEAD":
            assert xml_error(r.content)["RequestId"] == rid
    assert len(set(ids)) == len(ids), "request ids are not unique"
    assert responses[6].content == data


def test_head_error_has_no_body(server, bucket):
    for path in (f"/{bucket}/nokey", "/nobucket-head-e2e", "/nobucket-head-e2e/k"):
        r = Signed(server).request("HEAD", path)
        assert r.status_code == 404
        assert r.content == b""
        assert r.headers.get("x-amz-request-id")


def test_method_not_allowed(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"stay")
    for method, path in [("PATCH", f"/{bucket}/k"), ("PATCH", f"/{bucket}"), ("PUT", "/"),
                         ("DELETE", "/")]:
        r = Signed(server).request(method, path)
        assert r.status_code in (405, 501), (method, path, r.status_code, r.text)
        assert xml_error(r.content)["Code"] in ("MethodNotAllowed", "NotImplemented")
    assert get_bytes(s3, bucket, "k") == b"stay"


def _raw(server, head, body=b"", timeout=15):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall(head + b"\r\n" + body)
        return recv_response(s, timeout=timeout)
    finally:
        s.close()


def test_entity_too_large(server, s3, bucket):
    sig = Signed(server)
    big = 5 * 1024 ** 3 + 1
    head = sig.raw_headers("PUT", f"/{bucket}/huge", headers={"Content-Length": str(big)})
    status, hdrs, body = _raw(server, head)
    assert status == 400, body
    assert xml_error(body)["Code"] == "EntityTooLarge"
    assert hdrs.get("x-amz-request-id")
    r = Signed(server).request("HEAD", f"/{bucket}/huge")
    assert r.status_code == 404


def test_missing_content_length(server, bucket):
    sig = Signed(server)
    head = sig.raw_headers("PUT", f"/{bucket}/nolen")
    status, hdrs, body = _raw(server, head)
    assert status == 411, body
    assert xml_error(body)["Code"] == "MissingContentLength"


def test_bucket_errors_codes(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    sig = Signed(server)
    assert_s3_error(sig.request("DELETE", f"/{bucket}"), 409, "BucketNotEmpty")
    assert sig.request("PUT", f"/{bucket}").status_code == 200  # us-east-1: yours already, kept
    assert_s3_error(sig.request("DELETE", "/nobucket-err-e2e"), 404, "NoSuchBucket")
    assert_s3_error(sig.request("GET", "/nobucket-err-e2e"), 404, "NoSuchBucket")
    assert_s3_error(sig.request("PUT", "/x_y"), 400, "InvalidBucketName")
    assert get_bytes(s3, bucket, "x") == b"1"


def test_health_unauthenticated(server):
    r = requests.get(server.endpoint + "/basalt/health/live", timeout=5)
    assert r.status_code == 200
    # the admin API is not open to anonymous callers
    r = requests.get(server.endpoint + "/basalt/admin/v1/info", timeout=5)
    assert r.status_code in (403, 404, 400)
    assert b"secret" not in r.content.lower()
