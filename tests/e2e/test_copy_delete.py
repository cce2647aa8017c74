"""CopyObject (issue 3, item 2), DeleteObjects (item 3) and conditional writes
on PutObject (item 4): boto3 and raw signed requests, with their bad input."""

import base64
import hashlib
import re
import zlib

import pytest
from botocore.exceptions import ClientError

from helpers import (Signed, assert_s3_error, err_code, get_bytes, http_status, md5hex,
                     rand_bytes, xml_error)

MiB = 1 << 20


# ---- CopyObject ----

def test_copy_within_and_across_buckets(s3, new_bucket):
    a, b = new_bucket(), new_bucket()
    data = rand_bytes(3 * MiB + 17, seed=1)
    s3.put_object(Bucket=a, Key="src/obj", Body=data, ContentType="text/csv",
                  Metadata={"team": "db"})
    r = s3.copy_object(Bucket=a, Key="copy", CopySource={"Bucket": a, "Key": "src/obj"})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % md5hex(data)
    r = s3.copy_object(Bucket=b, Key="other/copy", CopySource=f"{a}/src/obj")
    for bucket, key in ((a, "copy"), (b, "other/copy")):
        assert get_bytes(s3, bucket, key) == data
        h = s3.head_object(Bucket=bucket, Key=key)
        assert h["ContentType"] == "text/csv" and h["Metadata"] == {"team": "db"}
    # the source is untouched
    assert get_bytes(s3, a, "src/obj") == data


def test_copy_metadata_directive_replace_and_self_copy(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"body", ContentType="a/b", Metadata={"x": "1"})
    # onto itself without a change: refused as in S3
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert err_code(ei.value) == "InvalidRequest"
    # REPLACE onto itself changes the metadata, keeps the bytes
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                   MetadataDirective="REPLACE", ContentType="c/d", Metadata={"y": "2"})
    h = s3.head_object(Bucket=bucket, Key="k")
    assert h["ContentType"] == "c/d" and h["Metadata"] == {"y": "2"}
    assert get_bytes(s3, bucket, "k") == b"body"
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"},
                       MetadataDirective="SOMETIMES")
    assert http_status(ei.value) == 400


def test_copy_source_conditions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="s", Body=b"source")
    etag = '"%s"' % md5hex(b"source")
    src = {"Bucket": bucket, "Key": "s"}
    s3.copy_object(Bucket=bucket, Key="d1", CopySource=src, CopySourceIfMatch=etag)
    for kw in ({"CopySourceIfMatch": '"0000"'}, {"CopySourceIfNoneMatch": etag},
               {"CopySourceIfUnmodifiedSince": "Mon, 01 Jan 2001 00:00:00 GMT"},
               {"CopySourceIfModifiedSince": "Mon, 01 Jan 2035 00:00:00 GMT"}):
        with pytest.raises(ClientError) as ei:
            s3.copy_object(Bucket=bucket, Key="d2", CopySource=src, **kw)
        assert http_status(ei.value) == 412, kw
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="d2")


def test_copy_bad_sources(s3, server, bucket):
    sig = Signed(server)
    for src, status, code in ((f"/{bucket}/missing", 404, "NoSuchKey"),
                              ("/no-such-bucket-copy/k", 404, "NoSuchBucket"),
                              (f"/{bucket}", 400, "InvalidArgument"),
                              ("", 400, "InvalidArgument"),
                              (f"/{bucket}/k?versionId=abc", 400, "InvalidArgument"),
                              ("/BAD_bucket/k", 400, "InvalidBucketName"),
                              (f"/{bucket}/" + "k" * 1025, 400, "KeyTooLongError")):
        r = sig.request("PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": src})
        assert_s3_error(r, status, code)
    # ../ in the source names a key, not a path: it does not exist
    r = sig.request("PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": f"/{bucket}/../../etc/passwd"})
    assert_s3_error(r, 404, "NoSuchKey")


def test_copy_source_outside_reach(s3, server, bucket):
    """The server's own buckets (bucket configurations, uploads in progress) are no client's:
    not as a copy source (CopyObject, UploadPartCopy), whatever key is named."""
    sig = Signed(server)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"part")
    # buckets/<bucket>/tagging exists in .basalt.sys (object/bucketconfig.c)
    for src in (f"/.basalt.sys/buckets/{bucket}/tagging", "/.basalt.sys/",
                f"/.basalt.multipart/u/{bucket}/mp", "/%2Ebasalt.sys/x", "/.BASALT.SYS/x"):
        for q in ([], [("partNumber", "2"), ("uploadId", uid)]):  # CopyObject, UploadPartCopy
            r = sig.request("PUT", f"/{bucket}/{'mp' if q else 'stolen'}", query=q,
                            headers={"x-amz-copy-source": src})
            assert r.status_code == 400, (src, r.status_code, r.text)
            assert xml_error(r.content)["Code"] in ("InvalidBucketName", "InvalidArgument"), r.text
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="stolen")
    assert http_status(ei.value) == 404
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid)


def test_copy_url_encoded_source(s3, bucket):
    key = "dir with spaces/ünï+cødé?&.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"odd")
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": key})
    assert get_bytes(s3, bucket, "plain") == b"odd"


def test_copy_tagging_directive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=2")
    s3.copy_object(Bucket=bucket, Key="t-copy", CopySource={"Bucket": bucket, "Key": "t"})
    tags = s3.get_object_tagging(Bucket=bucket, Key="t-copy")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "2")]
    s3.copy_object(Bucket=bucket, Key="t-new", CopySource={"Bucket": bucket, "Key": "t"},
                   TaggingDirective="REPLACE", Tagging="c=3")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t-new")["TagSet"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("c", "3")]


def test_copy_multipart_source_and_conditional_destination(s3, server, bucket):
    parts = [rand_bytes(5 * MiB, seed=3), rand_bytes(100, seed=4)]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    done = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid,
                                                     PartNumber=n, Body=p)["ETag"]}
            for n, p in enumerate(parts, 1)]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                 MultipartUpload={"Parts": done})
    s3.copy_object(Bucket=bucket, Key="mp-copy", CopySource={"Bucket": bucket, "Key": "mp"})
    assert get_bytes(s3, bucket, "mp-copy") == b"".join(parts)
    # the copy is one stream: its ETag is the MD5 of the bytes
    assert s3.head_object(Bucket=bucket, Key="mp-copy")["ETag"] == '"%s"' % md5hex(b"".join(parts))
    sig = Signed(server)
    r = sig.request("PUT", f"/{bucket}/mp-copy", headers={"x-amz-copy-source": f"/{bucket}/mp",
                                                          "If-None-Match": "*"})
    assert_s3_error(r, 412, "PreconditionFailed")


# ---- DeleteObjects ----

def test_delete_objects_verbose_and_quiet(s3, bucket):
    keys = [f"d/{i}" for i in range(20)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:10]] +
                                                 [{"Key": "never-existed"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys[:10] + ["never-existed"])
    assert "Errors" not in r
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[10:]],
                                                 "Quiet": True})
    assert "Deleted" not in r and "Errors" not in r
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_delete_objects_limits_and_integrity(s3, server, bucket):
    sig = Signed(server)
    s3.put_object(Bucket=bucket, Key="keep", Body=b"keep")

    def doc(n, key="keep"):
        return ("<Delete>" + "".join(f"<Object><Key>{key}</Key></Object>" for _ in range(n)) +
                "</Delete>").encode()

    def md5b64(b):
        return base64.b64encode(hashlib.md5(b).digest()).decode()

    body = doc(1001)
    r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body,
                    headers={"Content-MD5": md5b64(body)})
    assert_s3_error(r, 400, "MalformedXML")
    body = doc(1)
    r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body)
    assert_s3_error(r, 400, "InvalidRequest")               # neither Content-MD5 nor a checksum
    r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body,
                    headers={"Content-MD5": md5b64(b"other")})
    assert_s3_error(r, 400, "BadDigest")
    r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body,
                    headers={"x-amz-checksum-crc32": base64.b64encode(b"\0\0\0\0").decode()})
    assert_s3_error(r, 400, "BadDigest")
    for bad in (b"<Delete><Object></Object></Delete>", b"<Delete>", b"<Other/>"):
        r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=bad,
                        headers={"Content-MD5": md5b64(bad)})
        assert_s3_error(r, 400, "MalformedXML")
    assert get_bytes(s3, bucket, "keep") == b"keep"
    # a CRC32 checksum instead of Content-MD5 (what current SDKs send)
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body,
                    headers={"x-amz-checksum-crc32": crc})
    assert r.status_code == 200, r.text
    assert "<Deleted><Key>keep</Key></Deleted>" in r.text
    # exactly 1,000 keys is fine
    body = doc(1000, "gone")
    r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body,
                    headers={"Content-MD5": md5b64(body)})
    assert r.status_code == 200, r.text


def test_delete_objects_per_key_errors(s3, server, bucket):
    sig = Signed(server)
    s3.put_object(Bucket=bucket, Key="ok", Body=b"1")
    body = ("<Delete><Object><Key>ok</Key></Object><Object><Key>" + "x" * 1025 +
            "</Key></Object></Delete>").encode()
    r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body,
                    headers={"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()})
    assert r.status_code == 200, r.text
    assert "<Deleted><Key>ok</Key></Deleted>" in r.text
    assert "<Code>KeyTooLongError</Code>" in r.text
    with pytest.raises(ClientError) as ei:
        s3.delete_objects(Bucket="no-such-bucket-del", Delete={"Objects": [{"Key": "a"}]})
    assert err_code(ei.value) == "NoSuchBucket"


# ---- conditional deletes (If-Match on DeleteObject, <ETag> in DeleteObjects) ----

def test_delete_if_match(s3, server, bucket):
    sig = Signed(server)
    s3.put_object(Bucket=bucket, Key="cd", Body=b"v1")
    etag = '"%s"' % md5hex(b"v1")
    r = sig.request("DELETE", f"/{bucket}/cd", headers={"If-Match": '"%s"' % md5hex(b"v0")})
    assert_s3_error(r, 412, "PreconditionFailed")
    assert get_bytes(s3, bucket, "cd") == b"v1"             # a failed condition deletes nothing
    r = sig.request("DELETE", f"/{bucket}/cd", headers={"x-amz-if-match-size": "2"})
    assert_s3_error(r, 501, "NotImplemented")               # directory buckets only, in S3
    assert get_bytes(s3, bucket, "cd") == b"v1"
    r = sig.request("DELETE", f"/{bucket}/cd", headers={"If-Match": etag})
    assert r.status_code == 204, r.text
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="cd")
    assert http_status(ei.value) == 404
    # If-Match asks for the key to be there: absent is 404, whatever the value
    for v in (etag, "*"):
        r = sig.request("DELETE", f"/{bucket}/cd", headers={"If-Match": v})
        assert_s3_error(r, 404, "NoSuchKey")
    r = sig.request("DELETE", f"/{bucket}/cd")              # without it, absent is fine
    assert r.status_code == 204, r.text
    # "*": the key exists, whatever its ETag; a list of ETags, one matching
    s3.put_object(Bucket=bucket, Key="cd", Body=b"v2")
    r = sig.request("DELETE", f"/{bucket}/cd", headers={"If-Match": "*"})
    assert r.status_code == 204, r.text
    s3.put_object(Bucket=bucket, Key="cd", Body=b"v3")
    r = sig.request("DELETE", f"/{bucket}/cd",
                    headers={"If-Match": '"%s", "%s"' % (md5hex(b"x"), md5hex(b"v3"))})
    assert r.status_code == 204, r.text
    assert "cd" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_delete_if_match_replaced_between(s3, server, bucket):
    """The ETag a client read is stale once the key is overwritten: the delete must not go on."""
    sig = Signed(server)
    s3.put_object(Bucket=bucket, Key="cd2", Body=b"read")
    seen = s3.head_object(Bucket=bucket, Key="cd2")["ETag"]
    s3.put_object(Bucket=bucket, Key="cd2", Body=b"newer")
    r = sig.request("DELETE", f"/{bucket}/cd2", headers={"If-Match": seen})
    assert_s3_error(r, 412, "PreconditionFailed")
    assert get_bytes(s3, bucket, "cd2") == b"newer"


def test_delete_objects_with_etags(s3, server, bucket):
    sig = Signed(server)
    for k, v in (("e/match", b"m"), ("e/stale", b"s"), ("e/plain", b"p")):
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    objs = [("e/match", '"%s"' % md5hex(b"m")), ("e/stale", '"%s"' % md5hex(b"old")),
            ("e/gone", md5hex(b"g")), ("e/never", None), ("e/plain", None)]
    body = ("<Delete>" + "".join(
        f"<Object><Key>{k}</Key>" + (f"<ETag>{e.replace(chr(34), '&quot;')}</ETag>" if e else "") +
        "</Object>" for k, e in objs) + "</Delete>").encode()
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body,
                    headers={"x-amz-checksum-crc32": crc})
    assert r.status_code == 200, r.text
    deleted = sorted(re.findall(r"<Deleted><Key>([^<]*)</Key></Deleted>", r.text))
    errors = dict(re.findall(r"<Error><Key>([^<]*)</Key><Code>([^<]*)</Code>", r.text))
    assert deleted == ["e/match", "e/never", "e/plain"], r.text
    assert errors == {"e/stale": "PreconditionFailed", "e/gone": "NoSuchKey"}, r.text
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="e/").get("Contents", [])]
    assert left == ["e/stale"]
    assert get_bytes(s3, bucket, "e/stale") == b"s"
    for cond in ("<Size>1</Size>", "<LastModifiedTime>2026-01-01T00:00:00Z</LastModifiedTime>"):
        body = f"<Delete><Object><Key>e/stale</Key>{cond}</Object></Delete>".encode()
        r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body,
                        headers={"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()})
        assert_s3_error(r, 501, "NotImplemented")
    assert get_bytes(s3, bucket, "e/stale") == b"s"


# ---- conditional writes on PutObject ----

def test_put_if_none_match_and_if_match(s3, server, bucket):
    sig = Signed(server)
    r = sig.request("PUT", f"/{bucket}/c", body=b"first", headers={"If-None-Match": "*"})
    assert r.status_code == 200, r.text
    r = sig.request("PUT", f"/{bucket}/c", body=b"second", headers={"If-None-Match": "*"})
    assert_s3_error(r, 412, "PreconditionFailed")
    r = sig.request("PUT", f"/{bucket}/c", body=b"third", headers={"If-Match": '"%s"' % md5hex(b"nope")})
    assert_s3_error(r, 412, "PreconditionFailed")
    r = sig.request("PUT", f"/{bucket}/missing", body=b"x", headers={"If-Match": '"%s"' % md5hex(b"x")})
    assert_s3_error(r, 404, "NoSuchKey")
    r = sig.request("PUT", f"/{bucket}/c", body=b"x", headers={"If-None-Match": '"abc"'})
    assert_s3_error(r, 501, "NotImplemented")
    assert get_bytes(s3, bucket, "c") == b"first"
    r = sig.request("PUT", f"/{bucket}/c", body=b"fourth", headers={"If-Match": '"%s"' % md5hex(b"first")})
    assert r.status_code == 200, r.text
    assert get_bytes(s3, bucket, "c") == b"fourth"


def test_racing_create_only_puts_one_wins(s3, server, bucket):
    """If-None-Match: * from 8 writers at once: exactly one succeeds."""
    import concurrent.futures

    sig = Signed(server)

    def put(i):
        return sig.request("PUT", f"/{bucket}/race", body=b"writer %d" % i,
                           headers={"If-None-Match": "*"}).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(put, range(8)))
    assert sorted(codes) == [200] + [412] * 7
    body = get_bytes(s3, bucket, "race")
    assert body.startswith(b"writer ")
