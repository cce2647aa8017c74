"""Multipart uploads (issue 3, item 1): boto3 calls one by one, the transfer
manager, checksums of parts and of the whole object, the client's mistakes,
ListParts / ListMultipartUploads paging, GetObject with partNumber, stale
uploads, and drives wiped under a multipart object."""

import base64
import hashlib
import time
import zlib

import pytest
from botocore.exceptions import ClientError

from helpers import (Signed, assert_s3_error, err_code, get_bytes, http_status, md5hex,
                     rand_bytes, wait_until)

MiB = 1 << 20


def mp_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(),
                        len(parts))


def upload(s3, bucket, key, parts, **create):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)
    uid = up["UploadId"]
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=i, Body=p)
        assert r["ETag"] == '"%s"' % md5hex(p)
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    return uid, done


def test_multipart_roundtrip(s3, bucket):
    parts = [rand_bytes(5 * MiB, seed=1), rand_bytes(5 * MiB + 3, seed=2), rand_bytes(1000, seed=3)]
    uid, done = upload(s3, bucket, "big/obj", parts, ContentType="video/mp4",
                       Metadata={"owner": "ops"})
    # nothing visible before completion
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="big/obj")
    assert http_status(ei.value) == 404
    r = s3.complete_multipart_upload(Bucket=bucket, Key="big/obj", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    assert r["ETag"] == mp_etag(parts)
    assert r["Key"] == "big/obj" and r["Bucket"] == bucket
    whole = b"".join(parts)
    assert get_bytes(s3, bucket, "big/obj") == whole
    h = s3.head_object(Bucket=bucket, Key="big/obj")
    assert h["ContentLength"] == len(whole)
    assert h["ETag"] == mp_etag(parts)
    assert h["ContentType"] == "video/mp4"
    assert h["Metadata"] == {"owner": "ops"}
    # the listing shows the object with its multipart ETag
    lst = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in lst] == [("big/obj", len(whole), mp_etag(parts))]
    # ranges across the part boundary
    r = s3.get_object(Bucket=bucket, Key="big/obj", Range="bytes=%d-%d" % (5 * MiB - 5, 5 * MiB + 5))
    assert r["Body"].read() == whole[5 * MiB - 5:5 * MiB + 6]
    # the upload is gone
    with pytest.raises(ClientError) as ei:
        s3.list_parts(Bucket=bucket, Key="big/obj", UploadId=uid)
    assert err_code(ei.value) == "NoSuchUpload"


def test_get_and_head_with_part_number(s3, bucket):
    parts = [rand_bytes(5 * MiB, seed=4), rand_bytes(77, seed=5)]
    uid, done = upload(s3, bucket, "pn", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="pn", UploadId=uid,
                                 MultipartUpload={"Parts": done})
    for n, p in enumerate(parts, 1):
        r = s3.get_object(Bucket=bucket, Key="pn", PartNumber=n)
        assert r["Body"].read() == p
        assert r["PartsCount"] == 2
        assert r["ContentLength"] == len(p)
        h = s3.head_object(Bucket=bucket, Key="pn", PartNumber=n)
        assert h["ContentLength"] == len(p) and h["PartsCount"] == 2
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="pn", PartNumber=3)
    assert err_code(ei.value) == "InvalidPartNumber"
    # a plain object has one part: itself
    s3.put_object(Bucket=bucket, Key="plain", Body=b"single")
    assert s3.get_object(Bucket=bucket, Key="plain", PartNumber=1)["Body"].read() == b"single"
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="plain", PartNumber=2)


def test_parts_replaced_out_of_order_and_subset(s3, bucket):
    p = {n: rand_bytes(5 * MiB + n, seed=n) for n in (1, 3, 7)}
    up = s3.create_multipart_upload(Bucket=bucket, Key="k")
    uid = up["UploadId"]
    etags = {}
    for n in (7, 3, 1):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=b"x" * 100)
        etags[n] = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n,
                                  Body=p[n])["ETag"]
    listed = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)["Parts"]
    assert [(x["PartNumber"], x["Size"], x["ETag"]) for x in listed] == \
        [(n, len(p[n]), etags[n]) for n in (1, 3, 7)]
    # complete with parts 1 and 7 only: part 3 is dropped
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etags[1]}, {"PartNumber": 7, "ETag": etags[7]}]})
    assert get_bytes(s3, bucket, "k") == p[1] + p[7]


def test_client_mistakes(s3, server, bucket):
    big, small = rand_bytes(5 * MiB, seed=9), b"tiny"
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=small)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=big)["ETag"]

    def complete(parts):
        with pytest.raises(ClientError) as ei:
            s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                         MultipartUpload={"Parts": parts})
        return err_code(ei.value)

    assert complete([{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]) == "InvalidPartOrder"
    assert complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]) == "EntityTooSmall"
    assert complete([{"PartNumber": 1, "ETag": e2}]) == "InvalidPart"          # wrong ETag
    assert complete([{"PartNumber": 5, "ETag": e1}]) == "InvalidPart"          # never uploaded
    sig = Signed(server)
    for n in ("0", "10001", "x", "-1"):
        r = sig.request("PUT", f"/{bucket}/k", query=[("partNumber", n), ("uploadId", uid)], body=b"x")
        assert_s3_error(r, 400, "InvalidArgument")
    r = sig.request("PUT", f"/{bucket}/k", query=[("partNumber", "1"), ("uploadId", "nope")], body=b"x")
    assert_s3_error(r, 404, "NoSuchUpload")
    r = sig.request("PUT", f"/{bucket}/other", query=[("partNumber", "1"), ("uploadId", uid)], body=b"x")
    assert_s3_error(r, 404, "NoSuchUpload")
    # malformed and empty completion documents
    for body in (b"<CompleteMultipartUpload>", b"<Nope/>",
                 b"<CompleteMultipartUpload></CompleteMultipartUpload>",
                 b"<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>"):
        r = sig.request("POST", f"/{bucket}/k", query=[("uploadId", uid)], body=body)
        assert_s3_error(r, 400, "MalformedXML")
    # after all that the upload still completes
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}]})
    assert get_bytes(s3, bucket, "k") == big
    with pytest.raises(ClientError) as ei:
        s3.create_multipart_upload(Bucket="no-such-bucket-mp", Key="k")
    assert err_code(ei.value) == "NoSuchBucket"


def test_abort_and_list_uploads_paging(s3, bucket):
    ids = {}
    for key in ("a", "b/1", "b/2", "c"):
        ids[key] = [s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"] for _ in range(2)]
    r = s3.list_multipart_uploads(Bucket=bucket)
    got = [(u["Key"], u["UploadId"]) for u in r["Uploads"]]
    want = sorted((k, i) for k, v in ids.items() for i in v)
    assert got == want
    # paging: 3 at a time, through key and upload-id markers
    seen, kw = [], {}
    while True:
        r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=3, **kw)
        seen += [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
        if not r["IsTruncated"]:
            break
        kw = {"KeyMarker": r["NextKeyMarker"], "UploadIdMarker": r["NextUploadIdMarker"]}
    assert seen == want
    # delimiter and prefix
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["b/"]
    assert sorted({u["Key"] for u in r["Uploads"]}) == ["a", "c"]
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="b/")
    assert {u["Key"] for u in r["Uploads"]} == {"b/1", "b/2"}
    # abort removes the upload and its parts
    s3.upload_part(Bucket=bucket, Key="a", UploadId=ids["a"][0], PartNumber=1, Body=b"p")
    s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=ids["a"][0])
    with pytest.raises(ClientError) as ei:
        s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=ids["a"][0])
    assert err_code(ei.value) == "NoSuchUpload"
    left = [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]]
    assert ids["a"][0] not in left and ids["a"][1] in left


def test_list_parts_paging(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="lp")["UploadId"]
    for n in range(1, 8):
        s3.upload_part(Bucket=bucket, Key="lp", UploadId=uid, PartNumber=n, Body=b"%d" % n)
    seen, marker = [], 0
    while True:
        r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=3, PartNumberMarker=marker)
        seen += [p["PartNumber"] for p in r.get("Parts", [])]
        if not r["IsTruncated"]:
            break
        marker = r["NextPartNumberMarker"]
    assert seen == list(range(1, 8))
    s3.abort_multipart_upload(Bucket=bucket, Key="lp", UploadId=uid)


def test_transfer_manager_upload_download(s3, bucket, tmp_path):
    """boto3's upload_file / download_file: multipart with threads, both ways."""
    from boto3.s3.transfer import TransferConfig

    src = tmp_path / "src.bin"
    data = rand_bytes(40 * MiB + 12345, seed=21)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
    s3.upload_file(str(src), bucket, "tm/file.bin", Config=cfg)
    h = s3.head_object(Bucket=bucket, Key="tm/file.bin")
    assert h["ContentLength"] == len(data) and h["ETag"].endswith('-6"')
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "tm/file.bin", str(dst), Config=cfg)
    assert hashlib.sha256(dst.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def _crc32_b64(b):
    return base64.b64encode(zlib.crc32(b).to_bytes(4, "big")).decode()


def test_part_checksums_composite(server, bucket):
    """Parts with x-amz-checksum-crc32; completion gives S3's composite checksum."""
    sig = Signed(server)
    parts = [rand_bytes(5 * MiB, seed=31), rand_bytes(4321, seed=32)]
    r = sig.request("POST", f"/{bucket}/ck", query=[("uploads", "")],
                    headers={"x-amz-checksum-algorithm": "CRC32"})
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-checksum-algorithm"] == "CRC32"
    uid = r.text.split("<UploadId>")[1].split("<")[0]
    etags = []
    for n, p in enumerate(parts, 1):
        q = [("partNumber", str(n)), ("uploadId", uid)]
        # a part without a checksum, or another algorithm: refused (the upload says CRC32)
        bad = sig.request("PUT", f"/{bucket}/ck", query=q, body=p,
                          headers={"x-amz-checksum-sha1": base64.b64encode(hashlib.sha1(p).digest()).decode()})
        assert_s3_error(bad, 400, "InvalidRequest")
        wrong = sig.request("PUT", f"/{bucket}/ck", query=q, body=p,
                            headers={"x-amz-checksum-crc32": _crc32_b64(p + b"!")})
        assert_s3_error(wrong, 400, "BadDigest")
        r = sig.request("PUT", f"/{bucket}/ck", query=q, body=p,
                        headers={"x-amz-checksum-crc32": _crc32_b64(p)})
        assert r.status_code == 200, r.text
        assert r.headers["x-amz-checksum-crc32"] == _crc32_b64(p)
        etags.append(r.headers["ETag"])
    doc = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag><ChecksumCRC32>{_crc32_b64(p)}</ChecksumCRC32></Part>"
        for n, (e, p) in enumerate(zip(etags, parts), 1)) + "</CompleteMultipartUpload>"
    r = sig.request("POST", f"/{bucket}/ck", query=[("uploadId", uid)], body=doc.encode())
    assert r.status_code == 200, r.text
    raw = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    want = _crc32_b64(raw) + "-2"
    assert f"<ChecksumCRC32>{want}</ChecksumCRC32>" in r.text
    assert "<ChecksumType>COMPOSITE</ChecksumType>" in r.text
    g = sig.request("GET", f"/{bucket}/ck", headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.content == b"".join(parts)
    assert g.headers.get("x-amz-checksum-crc32") == want
    assert g.headers.get("x-amz-checksum-type") == "COMPOSITE"


def test_full_object_crc(server, bucket):
    """FULL_OBJECT CRC32: the CRC of the whole object, combined from the parts'."""
    sig = Signed(server)
    parts = [rand_bytes(5 * MiB, seed=41), rand_bytes(999, seed=42)]
    r = sig.request("POST", f"/{bucket}/fo", query=[("uploads", "")],
                    headers={"x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-type": "FULL_OBJECT"})
    assert r.status_code == 200, r.text
    uid = r.text.split("<UploadId>")[1].split("<")[0]
    doc = "<CompleteMultipartUpload>"
    for n, p in enumerate(parts, 1):
        r = sig.request("PUT", f"/{bucket}/fo", query=[("partNumber", str(n)), ("uploadId", uid)],
                        body=p, headers={"x-amz-checksum-crc32": _crc32_b64(p)})
        assert r.status_code == 200, r.text
        doc += f"<Part><PartNumber>{n}</PartNumber><ETag>{r.headers['ETag']}</ETag></Part>"
    r = sig.request("POST", f"/{bucket}/fo", query=[("uploadId", uid)],
                    body=(doc + "</CompleteMultipartUpload>").encode())
    assert r.status_code == 200, r.text
    want = _crc32_b64(b"".join(parts))
    assert f"<ChecksumCRC32>{want}</ChecksumCRC32>" in r.text
    assert "<ChecksumType>FULL_OBJECT</ChecksumType>" in r.text


def test_conditional_complete(s3, server, bucket):
    sig = Signed(server)
    s3.put_object(Bucket=bucket, Key="c", Body=b"old")
    uid, done = upload(s3, bucket, "c", [b"new"])
    doc = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
           "</CompleteMultipartUpload>" % done[0]["ETag"]).encode()
    r = sig.request("POST", f"/{bucket}/c", query=[("uploadId", uid)], body=doc,
                    headers={"If-None-Match": "*"})
    assert_s3_error(r, 412, "PreconditionFailed")
    r = sig.request("POST", f"/{bucket}/c", query=[("uploadId", uid)], body=doc,
                    headers={"If-Match": '"%s"' % md5hex(b"other")})
    assert_s3_error(r, 412, "PreconditionFailed")
    assert get_bytes(s3, bucket, "c") == b"old"
    r = sig.request("POST", f"/{bucket}/c", query=[("uploadId", uid)], body=doc,
                    headers={"If-Match": '"%s"' % md5hex(b"old")})
    assert r.status_code == 200, r.text
    assert get_bytes(s3, bucket, "c") == b"new"


def test_upload_part_copy(s3, bucket):
    src = rand_bytes(7 * MiB, seed=51)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    r1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange="bytes=0-%d" % (5 * MiB - 1))
    r2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange="bytes=%d-%d" % (6 * MiB, 7 * MiB - 1))
    assert r1["CopyPartResult"]["ETag"] == '"%s"' % md5hex(src[:5 * MiB])
    with pytest.raises(ClientError) as ei:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=3,
                            CopySource={"Bucket": bucket, "Key": "src"},
                            CopySourceRange="bytes=0-%d" % (7 * MiB))
    assert err_code(ei.value) == "InvalidRange"
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]})
    assert get_bytes(s3, bucket, "dst") == src[:5 * MiB] + src[6 * MiB:]


def test_delete_bucket_drops_uploads(s3, new_bucket):
    b = new_bucket()
    uid = s3.create_multipart_upload(Bucket=b, Key="k")["UploadId"]
    s3.upload_part(Bucket=b, Key="k", UploadId=uid, PartNumber=1, Body=b"part")
    s3.delete_bucket(Bucket=b)
    s3.create_bucket(Bucket=b)
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []


def test_stale_uploads_removed(fresh_server):
    srv = fresh_server(extra_args=["--stale-uploads-after", "3s"])
    s3 = srv.client()
    s3.create_bucket(Bucket="stale")
    uid = s3.create_multipart_upload(Bucket="stale", Key="k")["UploadId"]
    s3.upload_part(Bucket="stale", Key="k", UploadId=uid, PartNumber=1, Body=b"x" * 1000)
    wait_until(lambda: s3.list_multipart_uploads(Bucket="stale").get("Uploads", []) == [], 30, 0.5,
               "the stale upload to be removed")
    with pytest.raises(ClientError) as ei:
        s3.list_parts(Bucket="stale", Key="k", UploadId=uid)
    assert err_code(ei.value) == "NoSuchUpload"


def test_multipart_object_survives_wiped_drives(fresh_server):
    srv = fresh_server()
    s3 = srv.client()
    s3.create_bucket(Bucket="mpw")
    parts = [rand_bytes(5 * MiB, seed=61), rand_bytes(3 * MiB + 1, seed=62)]
    uid, done = upload(s3, "mpw", "obj", parts)
    s3.complete_multipart_upload(Bucket="mpw", Key="obj", UploadId=uid,
                                 MultipartUpload={"Parts": done})
    whole = b"".join(parts)
    srv.wipe_drive(0)
    srv.wipe_drive(1)
    assert get_bytes(s3, "mpw", "obj") == whole
    srv.heal()
    srv.wipe_drive(2)
    srv.wipe_drive(3)
    assert get_bytes(s3, "mpw", "obj") == whole


def test_presigned_upload_part_and_head_delete(s3, bucket):
    """Presigned URLs for the operations the SDKs presign beyond GET/PUT: UploadPart, HEAD, DELETE,
    fetched with plain HTTP."""
    import requests

    uid = s3.create_multipart_upload(Bucket=bucket, Key="pre")["UploadId"]
    parts = [rand_bytes(5 * MiB, seed=81), b"tail"]
    done = []
    for n, p in enumerate(parts, 1):
        url = s3.generate_presigned_url("upload_part", Params={
            "Bucket": bucket, "Key": "pre", "UploadId": uid, "PartNumber": n}, ExpiresIn=300)
        r = requests.put(url, data=p, timeout=60)
        assert r.status_code == 200, r.text
        assert r.headers["ETag"] == '"%s"' % md5hex(p)
        done.append({"PartNumber": n, "ETag": r.headers["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="pre", UploadId=uid,
                                 MultipartUpload={"Parts": done})
    head = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "pre"})
    r = requests.head(head, timeout=30)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == 5 * MiB + 4
    assert get_bytes(s3, bucket, "pre") == b"".join(parts)
    delete = s3.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "pre"})
    assert requests.delete(delete, timeout=30).status_code == 204
    assert requests.head(head, timeout=30).status_code == 404


def test_create_with_bad_checksum_choice(server, bucket):
    """x-amz-checksum-algorithm / -type combinations S3 refuses, on CreateMultipartUpload."""
    sig = Signed(server)
    for headers, code in (({"x-amz-checksum-algorithm": "MD4"}, "InvalidRequest"),
                          ({"x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-type": "BOGUS"},
                           "InvalidRequest"),
                          ({"x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-type": "FULL_OBJECT"},
                           "InvalidRequest"),
                          ({"x-amz-checksum-algorithm": "CRC64NVME", "x-amz-checksum-type": "COMPOSITE"},
                           "InvalidRequest"),
                          ({"x-amz-checksum-type": "COMPOSITE"}, "InvalidRequest")):
        r = sig.request("POST", f"/{bucket}/bad", query=[("uploads", "")], headers=headers)
        assert_s3_error(r, 400, code)
    r = sig.request("GET", f"/{bucket}", query=[("uploads", "")])
    assert "<Upload>" not in r.text
