"""Browser POST uploads (issue 3 item 5): forms signed by boto3's
generate_presigned_post, posted with requests as a browser would
(multipart/form-data, the file last), with the policy's conditions;
then every kind of bad form: expired, tampered, failing conditions, missing
fields, malformed or truncated bodies. A failed POST commits nothing: the
object is not visible and the answer is an S3 XML error document."""

import base64
import hmac
import json
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import (REGION, assert_s3_error, get_bytes, http_status, make_client, md5hex,
                     rand_bytes, sha, signing_key, wait_until, TIME_SCALE)

TIMEOUT = 60 * TIME_SCALE


def post(presigned, data, filename="upload.bin", extra=None, drop=(), **kw):
    """POSTs the presigned form with `data` as the file (last), as a browser does."""
    fields = dict(presigned["fields"])
    fields.update(extra or {})
    for k in drop:
        fields.pop(k, None)
    return requests.post(presigned["url"], data=fields, files={"file": (filename, data)},
                         allow_redirects=False, timeout=TIMEOUT, **kw)


def assert_absent(s3, bucket, key):
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key=key)
    assert http_status(e.value) == 404
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def assert_stored(s3, bucket, key, data, resp):
    assert resp.headers["ETag"] == f'"{md5hex(data)}"'
    got = get_bytes(s3, bucket, key)
    assert sha(got) == sha(data)


# --------------------------------------------------------------------------
# Uploads that succeed
# --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 10 * 1024, 3 * 1024 * 1024])
def test_post_sizes(server, s3, bucket, size):
    data = rand_bytes(size, seed=size + 1)
    key = f"post/obj-{size}"
    p = s3.generate_presigned_post(bucket, key, ExpiresIn=600)
    r = post(p, data)
    assert r.status_code == 204, r.text
    assert r.headers["Location"] == f"{server.endpoint}/{bucket}/post/obj-{size}"
    assert_stored(s3, bucket, key, data, r)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentType"] == "binary/octet-stream"


def test_post_conditions_and_201(server, s3, bucket):
    data = rand_bytes(100_000, seed=7)
    fields = {"Content-Type": "image/png", "x-amz-meta-color": "red",
              "Cache-Control": "max-age=60", "success_action_status": "201"}
    conditions = [["content-length-range", 1, 1 << 20], ["starts-with", "$key", "uploads/"],
                  {"Content-Type": "image/png"}, ["starts-with", "$x-amz-meta-color", ""],
                  {"Cache-Control": "max-age=60"}, {"success_action_status": "201"}]
    p = s3.generate_presigned_post(bucket, "uploads/${filename}", Fields=fields,
                                   Conditions=conditions, ExpiresIn=600)
    r = post(p, data, filename="photo é.png")
    assert r.status_code == 201, r.text
    root = ET.fromstring(r.content)
    assert root.tag == "PostResponse"
    got = {c.tag: c.text for c in root}
    assert got["Bucket"] == bucket
    assert got["Key"] == "uploads/photo é.png"
    assert got["ETag"] == f'"{md5hex(data)}"'
    quoted = urllib.parse.quote("uploads/photo é.png")
    assert got["Location"] == f"{server.endpoint}/{bucket}/{quoted}"
    assert r.headers["Location"] == got["Location"]
    assert_stored(s3, bucket, "uploads/photo é.png", data, r)
    h = s3.head_object(Bucket=bucket, Key="uploads/photo é.png")
    assert h["ContentType"] == "image/png"
    assert h["CacheControl"] == "max-age=60"
    assert h["Metadata"] == {"color": "red"}


def test_post_status_200_and_fields_after_file_ignored(s3, bucket):
    data = b"hello post"
    p = s3.generate_presigned_post(bucket, "a/b c", Fields={"success_action_status": "200"},
                                   Conditions=[{"success_action_status": "200"}])
    # A field after the file (a browser's submit button) is ignored, as S3 does.
    fields = list(p["fields"].items()) + [("file", ("x.txt", data)), ("submit", (None, "Upload"))]
    r = requests.post(p["url"], files=fields, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.content == b""
    assert_stored(s3, bucket, "a/b c", data, r)


def test_post_redirect(s3, bucket):
    data = rand_bytes(5000, seed=3)
    target = "https://example.com/done?from=basalt"
    p = s3.generate_presigned_post(bucket, "red/${filename}",
                                   Fields={"success_action_redirect": target},
                                   Conditions=[{"success_action_redirect": target}])
    r = post(p, data, filename="f.bin")
    assert r.status_code == 303, r.text
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert (loc.scheme, loc.netloc, loc.path) == ("https", "example.com", "/done")
    q = dict(urllib.parse.parse_qsl(loc.query))
    assert q == {"from": "basalt", "bucket": bucket, "key": "red/f.bin",
                 "etag": f'"{md5hex(data)}"'}
    assert_stored(s3, bucket, "red/f.bin", data, r)


def test_post_legacy_redirect_field(server, s3, bucket):
    """The legacy `redirect` field works as success_action_redirect: 303 to the URL with
    bucket, key and etag added to its query (the key encoded)."""
    data = rand_bytes(12_345, seed=31)
    target = "http://example.org/uploaded"
    p = s3.generate_presigned_post(bucket, "legacy/${filename}", Fields={"redirect": target},
                                   Conditions=[{"redirect": target}], ExpiresIn=600)
    r = post(p, data, filename="a b&c=d+e.txt")
    assert r.status_code == 303, r.text
    assert r.content == b""
    loc = r.headers["Location"]
    assert loc.startswith(target + "?"), loc
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query, keep_blank_values=True)
    assert q == {"bucket": [bucket], "key": ["legacy/a b&c=d+e.txt"],
                 "etag": [f'"{md5hex(data)}"']}, loc
    assert_stored(s3, bucket, "legacy/a b&c=d+e.txt", data, r)


def test_post_unusable_redirect_ignored(server, s3, bucket):
    """A redirect that is not an http(s) URL is ignored: S3 answers as success_action_status
    says instead (here 201 and its XML document)."""
    data = b"no redirect for this one"
    fields = {"redirect": "not a url", "success_action_status": "201"}
    p = s3.generate_presigned_post(bucket, "k", Fields=fields,
                                   Conditions=[{k: v} for k, v in fields.items()])
    r = post(p, data)
    assert r.status_code == 201, r.text
    root = ET.fromstring(r.content)
    assert root.tag == "PostResponse" and root.find("Key").text == "k"
    assert r.headers["Location"] == f"{server.endpoint}/{bucket}/k"  # the object, no redirect
    assert_stored(s3, bucket, "k", data, r)


def test_post_metadata_condition_fails(s3, bucket):
    """["eq", "$x-amz-meta-tag", "a"] with the form sending "b" (or nothing): 403, nothing
    stored; with "a" the upload goes through and keeps the metadata."""
    p = s3.generate_presigned_post(bucket, "meta/k", Fields={"x-amz-meta-tag": "a"},
                                   Conditions=[["eq", "$x-amz-meta-tag", "a"]], ExpiresIn=600)
    want = 'Policy Condition failed: ["eq", "$x-amz-meta-tag", "a"]'
    e = assert_s3_error(post(p, b"data", extra={"x-amz-meta-tag": "b"}), 403, "AccessDenied")
    assert e["Message"] == "Invalid according to Policy: " + want, e
    e = assert_s3_error(post(p, b"data", drop=("x-amz-meta-tag",)), 403, "AccessDenied")
    assert want in e["Message"], e
    e = assert_s3_error(post(p, b"data", extra={"x-amz-meta-tag": "ab"}), 403, "AccessDenied")
    assert want in e["Message"], e
    assert_absent(s3, bucket, "meta/k")
    data = rand_bytes(3000, seed=12)
    r = post(p, data)
    assert r.status_code == 204, r.text
    assert_stored(s3, bucket, "meta/k", data, r)
    assert s3.head_object(Bucket=bucket, Key="meta/k")["Metadata"] == {"tag": "a"}


def test_post_bucket_condition_fails(s3, new_bucket):
    """A form signed for one bucket (boto3 adds {"bucket": ...} to the policy) posted to
    another bucket's URL is refused, and so is a form whose bucket field names another."""
    signed_for, other = new_bucket(), new_bucket()
    p = s3.generate_presigned_post(signed_for, "k", ExpiresIn=600)
    assert {"bucket": signed_for} in json.loads(base64.b64decode(p["fields"]["policy"]))[
        "conditions"]
    elsewhere = dict(p, url=p["url"].rsplit("/", 1)[0] + "/" + other)
    assert elsewhere["url"] != p["url"]
    e = assert_s3_error(post(elsewhere, b"data"), 403, "AccessDenied")
    assert f'Policy Condition failed: ["eq", "$bucket", "{signed_for}"]' in e["Message"], e
    e = assert_s3_error(post(p, b"data", extra={"bucket": other}), 403, "AccessDenied")
    assert f'["eq", "$bucket", "{signed_for}"]' in e["Message"], e
    assert_absent(s3, other, "k")
    assert_absent(s3, signed_for, "k")
    # the same form, to its own bucket, works
    r = post(p, b"data")
    assert r.status_code == 204, r.text
    assert_stored(s3, signed_for, "k", b"data", r)
    assert_absent(s3, other, "k")


def test_post_overwrites_and_filename_substitution(s3, bucket):
    p = s3.generate_presigned_post(bucket, "dir/${filename}")
    for data in (b"first", b"second version"):
        r = post(p, data, filename="same.txt")
        assert r.status_code == 204, r.text
        assert_stored(s3, bucket, "dir/same.txt", data, r)


# --------------------------------------------------------------------------
# Bad input: nothing is committed
# --------------------------------------------------------------------------


def test_post_expired_policy(s3, bucket):
    p = s3.generate_presigned_post(bucket, "k", ExpiresIn=-60)
    e = assert_s3_error(post(p, b"data"), 403, "AccessDenied")
    assert "expired" in e["Message"]
    assert_absent(s3, bucket, "k")


def test_post_tampered_policy(s3, bucket):
    p = s3.generate_presigned_post(bucket, "k", Conditions=[["content-length-range", 0, 10]])
    doc = json.loads(base64.b64decode(p["fields"]["policy"]))
    doc["conditions"] = [c for c in doc["conditions"]
                         if not (isinstance(c, list) and c[0] == "content-length-range")]
    forged = base64.b64encode(json.dumps(doc).encode()).decode()
    assert_s3_error(post(p, b"x" * 100, extra={"policy": forged}), 403, "SignatureDoesNotMatch")
    assert_absent(s3, bucket, "k")


def test_post_tampered_signature(s3, bucket):
    p = s3.generate_presigned_post(bucket, "k")
    sig = p["fields"]["x-amz-signature"]
    bad = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert_s3_error(post(p, b"data", extra={"x-amz-signature": bad}), 403,
                    "SignatureDoesNotMatch")
    assert_absent(s3, bucket, "k")


def test_post_wrong_secret_and_unknown_key(server, bucket, s3):
    wrong = make_client(server.endpoint, server.access_key, "not-the-secret")
    assert_s3_error(post(wrong.generate_presigned_post(bucket, "k"), b"d"), 403,
                    "SignatureDoesNotMatch")
    unknown = make_client(server.endpoint, "nobody", server.secret_key)
    assert_s3_error(post(unknown.generate_presigned_post(bucket, "k"), b"d"), 403,
                    "InvalidAccessKeyId")
    other_region = make_client(server.endpoint, server.access_key, server.secret_key,
                               region="eu-west-1")
    assert REGION != "eu-west-1"
    assert_s3_error(post(other_region.generate_presigned_post(bucket, "k"), b"d"), 400,
                    "AuthorizationHeaderMalformed")
    assert_absent(s3, bucket, "k")


def test_post_key_outside_starts_with(s3, bucket):
    p = s3.generate_presigned_post(bucket, "uploads/${filename}")
    e = assert_s3_error(post(p, b"data", extra={"key": "elsewhere/x"}), 403, "AccessDenied")
    assert "Policy Condition failed" in e["Message"] and "$key" in e["Message"]
    assert_absent(s3, bucket, "elsewhere/x")


def test_post_failing_field_conditions(s3, bucket):
    p = s3.generate_presigned_post(bucket, "k", Fields={"Content-Type": "image/png"},
                                   Conditions=[["starts-with", "$Content-Type", "image/"]])
    assert_s3_error(post(p, b"d", extra={"Content-Type": "text/html"}), 403, "AccessDenied")
    # A field no condition covers is refused, as S3 does.
    e = assert_s3_error(post(p, b"d", extra={"x-amz-meta-extra": "1"}), 403, "AccessDenied")
    assert "Extra input fields: x-amz-meta-extra" in e["Message"]
    assert_absent(s3, bucket, "k")


def test_post_too_large(s3, bucket):
    p = s3.generate_presigned_post(bucket, "big", Conditions=[["content-length-range", 1, 1000]])
    assert_s3_error(post(p, rand_bytes(1001)), 400, "EntityTooLarge")
    # far past the limit, with the body streaming in many blocks
    assert_s3_error(post(p, rand_bytes(3 << 20)), 400, "EntityTooLarge")
    assert_absent(s3, bucket, "big")
    data = rand_bytes(1000)
    r = post(p, data)
    assert r.status_code == 204, r.text
    assert_stored(s3, bucket, "big", data, r)


def test_post_too_small(s3, bucket):
    p = s3.generate_presigned_post(bucket, "small",
                                   Conditions=[["content-length-range", 100, 1000]])
    assert_s3_error(post(p, b"x" * 99), 400, "EntityTooSmall")
    assert_s3_error(post(p, b""), 400, "EntityTooSmall")
    assert_absent(s3, bucket, "small")


@pytest.mark.parametrize("missing,status,code", [
    ("x-amz-signature", 400, "InvalidArgument"),
    ("x-amz-credential", 400, "InvalidArgument"),
    ("policy", 400, "InvalidArgument"),
    ("key", 400, "InvalidArgument"),
])
def test_post_missing_fields(s3, bucket, missing, status, code):
    p = s3.generate_presigned_post(bucket, "k")
    assert_s3_error(post(p, b"data", drop=(missing,)), status, code)
    assert_absent(s3, bucket, "k")


def test_post_anonymous_and_no_file(server, s3, bucket):
    r = requests.post(f"{server.endpoint}/{bucket}", files={"key": (None, "k"),
                                                          "file": ("f", b"data")},
                      timeout=TIMEOUT)
    assert_s3_error(r, 403, "AccessDenied")
    p = s3.generate_presigned_post(bucket, "k")
    r = requests.post(p["url"], files={k: (None, v) for k, v in p["fields"].items()},
                      timeout=TIMEOUT)
    assert_s3_error(r, 400, "InvalidArgument")
    assert_absent(s3, bucket, "k")


def test_post_not_multipart(server, s3, bucket):
    p = s3.generate_presigned_post(bucket, "k")
    r = requests.post(p["url"], data=p["fields"], timeout=TIMEOUT)  # urlencoded
    assert_s3_error(r, 400, "MalformedPOSTRequest")
    r = requests.post(p["url"], data=b"x", timeout=TIMEOUT,
                      headers={"Content-Type": "multipart/form-data"})  # no boundary
    assert_s3_error(r, 400, "MalformedPOSTRequest")
    assert_absent(s3, bucket, "k")


def _signed_policy(server, p, policy_text):
    """The form `p` with its policy replaced by `policy_text`, signed with the right key."""
    f = p["fields"]
    b64 = base64.b64encode(policy_text.encode()).decode()
    date = f["x-amz-credential"].split("/")[1]
    key = signing_key(server.secret_key, date)
    return {"policy": b64, "x-amz-signature": hmac.new(key, b64.encode(), "sha256").hexdigest()}


def test_post_bad_policy_document(s3, bucket, server):
    p = s3.generate_presigned_post(bucket, "k")
    assert_s3_error(post(p, b"d", extra={"policy": "not base64 at all!"}), 403,
                    "SignatureDoesNotMatch")
    for text in ("not json", '{"conditions": []}', '{"expiration": "tomorrow", "conditions": []}',
                 '{"expiration": "2099-01-01T00:00:00Z", "conditions": [["ends-with", "$key", "k"]]}'):
        e = assert_s3_error(post(p, b"d", extra=_signed_policy(server, p, text)), 400,
                            "InvalidPolicyDocument")
        assert e["Message"].startswith("Invalid Policy: ")
    # a signed, well-formed policy that covers nothing: every field is extra
    e = assert_s3_error(post(p, b"d", extra=_signed_policy(
        server, p, '{"expiration": "2099-01-01T00:00:00Z", "conditions": []}')), 403,
        "AccessDenied")
    assert "Extra input fields" in e["Message"]
    assert_absent(s3, bucket, "k")


def _form_body(p, data):
    req = requests.Request("POST", p["url"], data=p["fields"],
                           files={"file": ("f.bin", data)}).prepare()
    return req.headers["Content-Type"], req.body


def test_post_no_closing_boundary(server, s3, bucket):
    p = s3.generate_presigned_post(bucket, "k")
    data = rand_bytes(200_000, seed=11)
    ctype, body = _form_body(p, data)
    boundary = ctype.split("boundary=")[1].encode()
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    for cut in (b"--" + boundary + b"--\r\n", b"--\r\n"):
        r = requests.post(p["url"], data=body[: -len(cut)],
                          headers={"Content-Type": ctype}, timeout=TIMEOUT)
        assert_s3_error(r, 400, "MalformedPOSTRequest")
    # the file's bytes without any delimiter after them
    r = requests.post(p["url"], data=body[: body.rindex(b"\r\n--")],
                      headers={"Content-Type": ctype}, timeout=TIMEOUT)
    assert_s3_error(r, 400, "MalformedPOSTRequest")
    assert_absent(s3, bucket, "k")


def test_post_truncated_body(server, s3, bucket):
    """The client goes away mid-file: nothing becomes visible, no temporary file stays."""
    p = s3.generate_presigned_post(bucket, "k")
    data = rand_bytes(3 << 20, seed=5)
    ctype, body = _form_body(p, data)
    u = urllib.parse.urlsplit(p["url"])
    head = (f"POST {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((u.hostname, u.port), timeout=TIMEOUT) as sock:
        sock.sendall(head + body[: len(body) // 2])
        time.sleep(0.2)
    time.sleep(0.5)
    assert_absent(s3, bucket, "k")
    wait_until(lambda: not server.tmp_leftovers(), 10 * TIME_SCALE, what="tmp files removed")
    # the same form, sent whole, still works
    r = requests.post(p["url"], data=body, headers={"Content-Type": ctype}, timeout=TIMEOUT)
    assert r.status_code == 204, r.text
    assert_stored(s3, bucket, "k", data, r)


TAGGING = ("<Tagging><TagSet><Tag><Key>team</Key><Value>web ui</Value></Tag>"
           "<Tag><Key>env</Key><Value>prod</Value></Tag></TagSet></Tagging>")


def test_post_tagging_and_storage_class(s3, bucket):
    data = rand_bytes(20_000, seed=9)
    fields = {"tagging": TAGGING, "x-amz-storage-class": "REDUCED_REDUNDANCY"}
    p = s3.generate_presigned_post(bucket, "tagged", Fields=fields,
                                   Conditions=[{k: v} for k, v in fields.items()])
    r = post(p, data)
    assert r.status_code == 204, r.text
    assert_stored(s3, bucket, "tagged", data, r)
    tags = s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "prod"), ("team", "web ui")]
    assert s3.head_object(Bucket=bucket, Key="tagged").get("StorageClass") == "REDUCED_REDUNDANCY"


@pytest.mark.parametrize("field,value,status,code", [
    ("tagging", "<Tagging><TagSet>", 400, "MalformedXML"),
    ("tagging", "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag>"
                "<Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>", 400, "InvalidTag"),
    ("x-amz-storage-class", "GLACIER", 400, "InvalidStorageClass"),
    ("x-amz-server-side-encryption", "AES256", 501, "NotImplemented"),
    # invalid server-side encryption fields: S3's 400 first, as on PutObject
    ("x-amz-server-side-encryption", "aes:kms", 400, "InvalidArgument"),
    ("x-amz-server-side-encryption-aws-kms-key-id", "k1", 400, "InvalidArgument"),
    ("x-amz-server-side-encryption-customer-algorithm", "AES128", 400,
     "InvalidEncryptionAlgorithmError"),
])
def test_post_bad_options(s3, bucket, field, value, status, code):
    p = s3.generate_presigned_post(bucket, "k", Fields={field: value},
                                   Conditions=[{field: value}])
    assert_s3_error(post(p, b"d"), status, code)
    assert_absent(s3, bucket, "k")


def test_post_no_such_bucket(server, s3):
    p = s3.generate_presigned_post("no-such-bucket-post", "k")
    assert_s3_error(post(p, b"d"), 404, "NoSuchBucket")


def test_post_checksum_field(server, s3, bucket):
    """An x-amz-checksum-crc32 field is checked against the file and stored; a wrong one stores
    nothing (BadDigest)."""
    import zlib

    data = rand_bytes(300_000, seed=91)
    good = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    for value, status in ((base64.b64encode(b"\0\0\0\0").decode(), 400), (good, 204)):
        p = s3.generate_presigned_post(bucket, "ck/obj", Fields={"x-amz-checksum-crc32": value},
                                       Conditions=[{"x-amz-checksum-crc32": value}], ExpiresIn=600)
        r = post(p, data)
        assert r.status_code == status, r.text
        if status == 400:
            assert_s3_error(r, 400, "BadDigest")
            assert_absent(s3, bucket, "ck/obj")
    assert_stored(s3, bucket, "ck/obj", data, r)
    h = s3.head_object(Bucket=bucket, Key="ck/obj", ChecksumMode="ENABLED")
    assert h.get("ChecksumCRC32") == good


def test_post_checksum_field_needs_no_condition(s3, bucket):
    """An x-amz-checksum-<algo> field that the policy does not name is not an "extra input
    field": S3 checks it against the file, not against the policy (browsers and SDKs add it to a
    form signed without it). A malformed one is still refused (400)."""
    import hashlib

    data = b"x" * 100_000
    good = base64.b64encode(hashlib.sha256(data).digest()).decode()
    p = s3.generate_presigned_post(bucket, "ck2/obj", ExpiresIn=600)
    r = post(p, data, extra={"x-amz-checksum-sha256": good})
    assert r.status_code == 204, r.text
    assert_stored(s3, bucket, "ck2/obj", data, r)
    p = s3.generate_presigned_post(bucket, "ck2/bad", ExpiresIn=600)
    r = post(p, data, extra={"x-amz-checksum-sha256": "sailorjerry"})
    assert r.status_code == 400, r.text
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="ck2/bad")
    assert http_status(e.value) == 404


def test_post_acl_field(fresh_server):
    """The form's acl field is the object's canned ACL, as x-amz-acl is a PutObject's: honoured
    where ACLs are enabled, AccessControlListNotSupported where the bucket enforces its owner."""
    srv = fresh_server(extra_args=["--object-ownership", "ObjectWriter"])
    c = srv.client()
    c.create_bucket(Bucket="postacl")
    p = c.generate_presigned_post("postacl", "pub.txt", Fields={"acl": "public-read"},
                                  Conditions=[{"acl": "public-read"}], ExpiresIn=600)
    r = post(p, b"public bytes")
    assert r.status_code == 204, r.text
    anon = requests.get(f"{srv.endpoint}/postacl/pub.txt")
    assert anon.status_code == 200 and anon.content == b"public bytes"
    grants = c.get_object_acl(Bucket="postacl", Key="pub.txt")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("/global/AllUsers") and
               g["Permission"] == "READ" for g in grants), grants
    p = c.generate_presigned_post("postacl", "priv.txt", ExpiresIn=600)
    assert post(p, b"private").status_code == 204
    assert requests.get(f"{srv.endpoint}/postacl/priv.txt").status_code == 403
    c.create_bucket(Bucket="postenf", ObjectOwnership="BucketOwnerEnforced")
    p = c.generate_presigned_post("postenf", "k", Fields={"acl": "public-read"},
                                  Conditions=[{"acl": "public-read"}], ExpiresIn=600)
    r = post(p, b"x")
    assert r.status_code == 400 and "AccessControlListNotSupported" in r.text, r.text
    assert_absent(c, "postenf", "k")
