"""Multipart uploads (issue 3, item 1): boto3 calls one by one, the transfer
manager, checksums of parts and of the whole object (every algorithm, composite
and full-object), the client's mistakes, part number 10,000, ListParts /
ListMultipartUploads paging and markers, GetObject with partNumber, stale
uploads, and drives wiped under a multipart object."""

import base64
import functools
import hashlib
import socket
import time
import xml.etree.ElementTree as ET
import zlib

import pytest
from botocore.exceptions import ClientError

from helpers import (S3NS, Signed, assert_s3_error, err_code, get_bytes, http_status, md5hex,
                     rand_bytes, recv_response, wait_until)

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
    assert err_code(ei.value) == "InvalidPart"
    # a plain object has one part: itself
    s3.put_object(Bucket=bucket, Key="plain", Body=b"single")
    assert s3.get_object(Bucket=bucket, Key="plain", PartNumber=1)["Body"].read() == b"single"
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="plain", PartNumber=2)


def test_part_number_beyond_the_parts_is_invalid_part(s3, server, bucket):
    """GET/HEAD ?partNumber=N past the object's parts: S3 now answers 400 InvalidPart (it once
    answered 416 InvalidPartNumber, and clients that read parts stop on the error either way). A
    plain object is its one part: part 1 is the whole object, part 2 is InvalidPart too."""
    parts = [rand_bytes(5 * MiB, seed=8), rand_bytes(10, seed=9)]
    uid, done = upload(s3, bucket, "pn2", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="pn2", UploadId=uid,
                                 MultipartUpload={"Parts": done})
    s3.put_object(Bucket=bucket, Key="plain2", Body=b"body")
    sig = Signed(server)
    for key, n in (("pn2", 3), ("plain2", 2)):
        assert_s3_error(sig.request("GET", f"/{bucket}/{key}", query=[("partNumber", str(n))]),
                        400, "InvalidPart")
        h = sig.request("HEAD", f"/{bucket}/{key}", query=[("partNumber", str(n))])
        assert h.status_code == 400
    r = s3.get_object(Bucket=bucket, Key="plain2", PartNumber=1)
    assert r["Body"].read() == b"body"


def test_complete_retried_after_success(s3, server, bucket):
    """A CompleteMultipartUpload sent again after it succeeded, with the same parts, answers 200
    with the same result (ETag, location, checksum), as S3 does: clients retry a completion whose
    answer they lost. Another list of parts, or an object overwritten since, is NoSuchUpload, and
    the server's note of the upload is not shown on the object."""
    parts = [rand_bytes(5 * MiB, seed=61), rand_bytes(100, seed=62)]
    uid, done = upload(s3, bucket, "again", parts)
    first = s3.complete_multipart_upload(Bucket=bucket, Key="again", UploadId=uid,
                                         MultipartUpload={"Parts": done})
    second = s3.complete_multipart_upload(Bucket=bucket, Key="again", UploadId=uid,
                                          MultipartUpload={"Parts": done})
    for k in ("ETag", "Location", "Bucket", "Key"):
        assert second[k] == first[k], k
    assert second["ETag"] == mp_etag(parts)
    assert get_bytes(s3, bucket, "again") == b"".join(parts)
    h = s3.head_object(Bucket=bucket, Key="again")
    assert not [n for n in h["ResponseMetadata"]["HTTPHeaders"] if "basalt" in n.lower()]
    # not the parts it was completed with
    with pytest.raises(ClientError) as ei:
        s3.complete_multipart_upload(Bucket=bucket, Key="again", UploadId=uid,
                                     MultipartUpload={"Parts": done[:1]})
    assert err_code(ei.value) == "NoSuchUpload"
    # the object is another one now
    s3.put_object(Bucket=bucket, Key="again", Body=b"other")
    with pytest.raises(ClientError) as ei:
        s3.complete_multipart_upload(Bucket=bucket, Key="again", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    assert err_code(ei.value) == "NoSuchUpload"
    # with a checksum: the retry gives the object's checksum and type again
    sig = Signed(server)
    _, cuid = _create_upload(sig, bucket, "again-ck", {"x-amz-checksum-algorithm": "SHA256"})
    etags = _upload_checked_parts(sig, bucket, "again-ck", cuid, "SHA256", CK_PARTS)
    doc = _complete_doc([(n, e, {"ChecksumSHA256": _b64_sum("SHA256", p)})
                         for n, (e, p) in enumerate(zip(etags, CK_PARTS), 1)])
    answers = [sig.request("POST", f"/{bucket}/again-ck", query=[("uploadId", cuid)], body=doc)
               for _ in range(2)]
    for r in answers:
        assert r.status_code == 200, r.text
        assert _xml_text(r, "ChecksumSHA256") == _composite_b64("SHA256", CK_PARTS)
        assert _xml_text(r, "ChecksumType") == "COMPOSITE"
        assert _xml_text(r, "ETag") == mp_etag(CK_PARTS)


def test_part_get_gives_the_part_checksum(server, bucket):
    """GET/HEAD ?partNumber=N with x-amz-checksum-mode: ENABLED answers the part's own checksum
    and the object's checksum type, as S3 does (SDKs check the bytes they get against it; the
    object's checksum does not describe one part). Without the mode, no checksum."""
    sig = Signed(server)
    for algo, ctype in (("SHA256", "COMPOSITE"), ("CRC32", "FULL_OBJECT")):
        key = "pk-" + algo
        headers = {"x-amz-checksum-algorithm": algo, "x-amz-checksum-type": ctype}
        _, uid = _create_upload(sig, bucket, key, headers)
        etags = _upload_checked_parts(sig, bucket, key, uid, algo, CK_PARTS)
        doc = _complete_doc([(n, e, {"Checksum" + algo: _b64_sum(algo, p)})
                             for n, (e, p) in enumerate(zip(etags, CK_PARTS), 1)])
        r = sig.request("POST", f"/{bucket}/{key}", query=[("uploadId", uid)], body=doc)
        assert r.status_code == 200, r.text
        name = "x-amz-checksum-" + algo.lower()
        for n, p in enumerate(CK_PARTS, 1):
            for method in ("GET", "HEAD"):
                g = sig.request(method, f"/{bucket}/{key}", query=[("partNumber", str(n))],
                                headers={"x-amz-checksum-mode": "ENABLED"})
                assert g.status_code == 206
                assert g.headers.get(name) == _b64_sum(algo, p), dict(g.headers)
                assert g.headers.get("x-amz-checksum-type") == ctype
            plain = sig.request("HEAD", f"/{bucket}/{key}", query=[("partNumber", str(n))])
            assert plain.status_code == 206 and name not in plain.headers


def test_part_sent_twice_the_one_finished_last_counts(s3, server, bucket):
    """Two UploadPart of the same number at once: the one that finished last is the part, even if
    it began first (S3: a part is replaced when its upload completes). Here A begins, B is sent
    whole, A ends: ListParts and the object are A. A completion that lists the number twice (both
    answers, as Ceph's s3-tests send) is 400 InvalidPartOrder, as S3 answers a repeated part number
    (seen by clients that listed a part twice: "The list of parts was not in ascending order"),
    checked before the ETags, even with the stale ETag first."""
    key = "twice"
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    a, b = b"A" * 1000, b"B" * 1000
    q = [("partNumber", "1"), ("uploadId", uid)]
    head = Signed(server).raw_headers("PUT", f"/{bucket}/{key}", query=q,
                                      headers={"Content-Length": str(len(a))})
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    try:
        sock.sendall(head + b"\r\n" + a[:400])
        time.sleep(0.2)  # A's upload has begun
        eb = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=b)["ETag"]
        sock.sendall(a[400:])
        status, _, _ = recv_response(sock, timeout=30)
        assert status == 200
    finally:
        sock.close()
    ea = '"%s"' % md5hex(a)
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=uid)["Parts"]
    assert [(x["PartNumber"], x["ETag"]) for x in listed] == [(1, ea)]
    for parts in ([eb, ea], [ea, ea]):
        with pytest.raises(ClientError) as ei:
            s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": e} for e in parts]})
        assert err_code(ei.value) == "InvalidPartOrder" and http_status(ei.value) == 400
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": ea}]})
    assert get_bytes(s3, bucket, key) == a


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


def test_list_uploads_order_and_storage_class(s3, bucket):
    """S3 lists the uploads of one key by initiation time (upload ids are not random order),
    each with its storage class."""
    made = [s3.create_multipart_upload(Bucket=bucket, Key="same")["UploadId"] for _ in range(6)]
    rr = s3.create_multipart_upload(Bucket=bucket, Key="rr",
                                    StorageClass="REDUCED_REDUNDANCY")["UploadId"]
    r = s3.list_multipart_uploads(Bucket=bucket)
    assert [u["UploadId"] for u in r["Uploads"] if u["Key"] == "same"] == made
    initiated = [u["Initiated"] for u in r["Uploads"] if u["Key"] == "same"]
    assert initiated == sorted(initiated)
    classes = {u["UploadId"]: u["StorageClass"] for u in r["Uploads"]}
    assert classes[rr] == "REDUCED_REDUNDANCY"
    assert {classes[i] for i in made} == {"STANDARD"}
    # the marker of the third upload pages to the fourth
    r = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="same", UploadIdMarker=made[2])
    assert [u["UploadId"] for u in r["Uploads"]] == made[3:]


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


def test_part_number_10000(s3, bucket):
    """10,000, the highest part number, is a part like any other: listed, completed after part 1,
    read back. (0 and 10,001 are refused: test_client_mistakes.)"""
    first, last = rand_bytes(5 * MiB, seed=91), rand_bytes(321, seed=92)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="pn10k")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="pn10k", UploadId=uid, PartNumber=1, Body=first)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="pn10k", UploadId=uid, PartNumber=10000,
                        Body=last)["ETag"]
    assert e2 == '"%s"' % md5hex(last)
    lp = s3.list_parts(Bucket=bucket, Key="pn10k", UploadId=uid)["Parts"]
    assert [(x["PartNumber"], x["Size"], x["ETag"]) for x in lp] == \
        [(1, len(first), e1), (10000, len(last), e2)]
    lp = s3.list_parts(Bucket=bucket, Key="pn10k", UploadId=uid, PartNumberMarker=1)["Parts"]
    assert [x["PartNumber"] for x in lp] == [10000]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="pn10k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 10000, "ETag": e2}]})
    assert r["ETag"] == mp_etag([first, last])
    got = get_bytes(s3, bucket, "pn10k")
    assert len(got) == len(first) + len(last)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(first + last).hexdigest()
    h = s3.head_object(Bucket=bucket, Key="pn10k")
    assert h["ContentLength"] == len(first) + len(last) and h["ETag"] == mp_etag([first, last])
    r = s3.get_object(Bucket=bucket, Key="pn10k", Range="bytes=%d-" % (5 * MiB - 3))
    assert r["Body"].read() == first[-3:] + last


def test_list_uploads_key_marker(s3, bucket):
    """ListMultipartUploads markers (S3: key-marker alone lists the keys strictly after it; with
    upload-id-marker, that key's uploads after the id too; upload-id-marker alone is ignored)
    and paging with max-uploads over several keys of several uploads each."""
    keys = ("a", "b", "b/1", "ba", "c")
    ids = {k: sorted(s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]
                     for _ in range(3)) for k in keys}
    want = [(k, i) for k in sorted(keys) for i in ids[k]]

    def listing(**kw):
        r = s3.list_multipart_uploads(Bucket=bucket, **kw)
        return r, [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]

    _, got = listing()
    assert got == want
    for marker in ("0", "a", "b", "b/", "b/1", "b0", "c", "d"):
        r, got = listing(KeyMarker=marker)
        assert got == [x for x in want if x[0] > marker], marker
        assert r["KeyMarker"] == marker and r["IsTruncated"] is False
    for k in keys:
        for i in ids[k]:
            r, got = listing(KeyMarker=k, UploadIdMarker=i)
            assert got == [x for x in want if x > (k, i)], (k, i)
            assert r["KeyMarker"] == k and r["UploadIdMarker"] == i
    _, got = listing(UploadIdMarker=ids["b"][1])
    assert got == want
    for max_uploads in (1, 2, 4, 5, 7):
        seen, kw, pages = [], {}, 0
        while True:
            r, got = listing(MaxUploads=max_uploads, **kw)
            pages += 1
            assert r["MaxUploads"] == max_uploads
            seen += got
            if not r["IsTruncated"]:
                assert len(got) <= max_uploads
                break
            assert len(got) == max_uploads
            assert (r["NextKeyMarker"], r["NextUploadIdMarker"]) == got[-1]
            kw = {"KeyMarker": r["NextKeyMarker"], "UploadIdMarker": r["NextUploadIdMarker"]}
        assert seen == want, max_uploads
        assert pages == -(-len(want) // max_uploads), max_uploads  # no empty last page
    # paging by key only (a client that keeps NextKeyMarker alone): the rest of a key's
    # uploads are skipped, as S3 documents for key-marker alone
    r, got = listing(MaxUploads=4)
    assert got == want[:4] and r["NextKeyMarker"] == "b"
    _, got = listing(MaxUploads=4, KeyMarker=r["NextKeyMarker"])
    assert got == [x for x in want if x[0] > "b"][:4]
    # with a prefix
    r, got = listing(Prefix="b", MaxUploads=5)
    assert got == [x for x in want if x[0].startswith("b")][:5] and r["IsTruncated"] is True
    _, got = listing(Prefix="b", KeyMarker=r["NextKeyMarker"],
                     UploadIdMarker=r["NextUploadIdMarker"])
    assert got == [x for x in want if x[0].startswith("b")][5:]


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


# The CRCs of S3's flexible checksums, computed here independently of the server: CRC32 is
# zlib's; CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and CRC-64/NVME (reflected
# polynomial 0x9A6C9329AC4BC9B5), both with initial value and final XOR all ones, use a table
# built bit by bit from the polynomial; `_crc_bitwise` is the plain definition, to check it.
def _crc_bitwise(data, poly, width):
    mask = (1 << width) - 1
    c = mask
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
    return c ^ mask


def _crc_table(poly):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_CRC_SPEC = {"CRC32": (0xEDB88320, 32), "CRC32C": (0x82F63B78, 32),
             "CRC64NVME": (0x9A6C9329AC4BC9B5, 64)}
_CRC_TABLES = {name: _crc_table(poly) for name, (poly, _) in _CRC_SPEC.items()}


def _crc(algo, data, crc=0):
    """CRC `algo` of `data`, continuing from `crc` (the CRC of the bytes before)."""
    if algo == "CRC32":
        return zlib.crc32(data, crc)
    width = _CRC_SPEC[algo][1]
    table, mask = _CRC_TABLES[algo], (1 << width) - 1
    c = crc ^ mask
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


# Check values (the CRC of b"123456789", from the CRC catalogue) of the definition, of the table
# and, for CRC32, of zlib: a wrong implementation stops the module here instead of blaming the
# server. A CRC continued over a second piece must equal the CRC of both pieces at once.
for _algo, _want in (("CRC32", 0xCBF43926), ("CRC32C", 0xE3069283),
                     ("CRC64NVME", 0xAE8B14860A799888)):
    _poly, _width = _CRC_SPEC[_algo]
    if not (_crc_bitwise(b"123456789", _poly, _width) == _crc(_algo, b"123456789") == _want):
        raise RuntimeError(f"the test's own {_algo} is wrong")
    if _crc(_algo, b"6789", _crc(_algo, b"12345")) != _want:
        raise RuntimeError(f"the test's own {_algo} does not continue")


@functools.lru_cache(maxsize=32)
def _raw_sum(algo, data):
    """Raw big-endian checksum bytes of `data`, as S3 base64-encodes them."""
    if algo in _CRC_SPEC:
        return _crc(algo, data).to_bytes(_CRC_SPEC[algo][1] // 8, "big")
    return hashlib.new(algo.lower(), data).digest()


def _b64_sum(algo, data):
    return base64.b64encode(_raw_sum(algo, data)).decode()


def _wrong_b64(algo, data):
    """A well-formed checksum of the right size that is not `data`'s (its first byte flipped)."""
    raw = _raw_sum(algo, data)
    return base64.b64encode(bytes([raw[0] ^ 0xFF]) + raw[1:]).decode()


def _full_object_crc_b64(algo, parts):
    """The CRC of the concatenated parts: the first part's (cached), continued over the others."""
    crc = int.from_bytes(_raw_sum(algo, parts[0]), "big")
    for p in parts[1:]:
        crc = _crc(algo, p, crc)
    return base64.b64encode(crc.to_bytes(_CRC_SPEC[algo][1] // 8, "big")).decode()


def _composite_b64(algo, parts):
    """S3's COMPOSITE checksum: the checksum of the parts' raw checksums, then "-<parts>"."""
    return "%s-%d" % (_b64_sum(algo, b"".join(_raw_sum(algo, p) for p in parts)), len(parts))


def _xml_text(resp, tag):
    """Text of the first element `tag` (any depth) of an S3 XML answer, or None."""
    e = ET.fromstring(resp.content).find(f".//{S3NS}{tag}")
    return None if e is None else (e.text or "")


def _create_upload(sig, bucket, key, headers):
    r = sig.request("POST", f"/{bucket}/{key}", query=[("uploads", "")], headers=headers)
    assert r.status_code == 200, r.text
    return r, _xml_text(r, "UploadId")


def _complete_doc(parts):
    """parts: (number, etag, {"ChecksumX": value, ...}) -> a CompleteMultipartUpload document."""
    return ("<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag>" +
        "".join(f"<{k}>{v}</{k}>" for k, v in sums.items()) + "</Part>"
        for n, e, sums in parts) + "</CompleteMultipartUpload>").encode()


# The same two parts (5 MiB and a short last part) for every checksum test: their checksums are
# computed once (_raw_sum's cache).
CK_PARTS = (rand_bytes(5 * MiB, seed=71), rand_bytes(1234, seed=72))


def _upload_checked_parts(sig, bucket, key, uid, algo, parts):
    """Uploads parts 1..N with their `algo` checksum, after each one sent with a wrong checksum
    (BadDigest); returns the ETags."""
    lower = algo.lower()
    etags = []
    for n, p in enumerate(parts, 1):
        q = [("partNumber", str(n)), ("uploadId", uid)]
        wrong = sig.request("PUT", f"/{bucket}/{key}", query=q, body=p,
                            headers={"x-amz-checksum-" + lower: _wrong_b64(algo, p)})
        assert_s3_error(wrong, 400, "BadDigest")
        r = sig.request("PUT", f"/{bucket}/{key}", query=q, body=p,
                        headers={"x-amz-checksum-" + lower: _b64_sum(algo, p)})
        assert r.status_code == 200, r.text
        assert r.headers.get("x-amz-checksum-" + lower) == _b64_sum(algo, p)
        etags.append(r.headers["ETag"])
    return etags


def _check_read_back(sig, bucket, key, data, algo, want, ctype):
    """HEAD and GET with x-amz-checksum-mode: ENABLED give the stored checksum and its type;
    without the mode no checksum is sent."""
    name = "x-amz-checksum-" + algo.lower()
    h = sig.request("HEAD", f"/{bucket}/{key}", headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.status_code == 200
    assert h.headers.get(name) == want, dict(h.headers)
    assert h.headers.get("x-amz-checksum-type") == ctype, dict(h.headers)
    g = sig.request("GET", f"/{bucket}/{key}", headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.status_code == 200
    assert hashlib.sha256(g.content).digest() == hashlib.sha256(data).digest()
    assert g.headers.get(name) == want and g.headers.get("x-amz-checksum-type") == ctype
    plain = sig.request("HEAD", f"/{bucket}/{key}")
    assert plain.status_code == 200 and name not in plain.headers


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
        # a part with another algorithm's checksum: refused (the upload says CRC32); a part
        # without any checksum: test_part_without_checksum_in_checksum_upload
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


@pytest.mark.parametrize("algo", ["CRC32C", "SHA1", "SHA256"])
def test_part_checksums_composite_every_algorithm(server, bucket, algo):
    """COMPOSITE checksums of the other algorithms (CRC32 above): each part checked on upload,
    the part checksums checked again on completion, the object's checksum is the checksum of
    the parts' raw checksums followed by -N, read back with x-amz-checksum-mode."""
    sig = Signed(server)
    lower = algo.lower()
    elem = "Checksum" + algo
    r, uid = _create_upload(sig, bucket, "ck", {"x-amz-checksum-algorithm": algo})
    assert r.headers.get("x-amz-checksum-algorithm") == algo
    assert r.headers.get("x-amz-checksum-type") == "COMPOSITE"
    etags = _upload_checked_parts(sig, bucket, "ck", uid, algo, CK_PARTS)
    # a part that also carries the checksum type (not a value) is still a part of this algorithm
    h = {"x-amz-checksum-" + lower: _b64_sum(algo, CK_PARTS[1]), "x-amz-checksum-type": "COMPOSITE"}
    r = sig.request("PUT", f"/{bucket}/ck", query=[("partNumber", "2"), ("uploadId", uid)],
                    body=CK_PARTS[1], headers=h)
    assert r.status_code == 200, r.text
    lp = sig.request("GET", f"/{bucket}/ck", query=[("uploadId", uid)])
    assert lp.status_code == 200, lp.text
    assert _xml_text(lp, "ChecksumAlgorithm") == algo
    assert _xml_text(lp, "ChecksumType") == "COMPOSITE"
    # each part's own checksum, as S3's ListParts gives it
    listed = [{c.tag.split("}")[-1]: c.text for c in part}
              for part in ET.fromstring(lp.content) if part.tag.endswith("Part")]
    assert [x.get(elem) for x in listed] == [_b64_sum(algo, p) for p in CK_PARTS], lp.text
    # a completion that lists another checksum for part 2 than the one it was uploaded with
    bad = _complete_doc([(1, etags[0], {elem: _b64_sum(algo, CK_PARTS[0])}),
                         (2, etags[1], {elem: _b64_sum(algo, CK_PARTS[0])})])
    r = sig.request("POST", f"/{bucket}/ck", query=[("uploadId", uid)], body=bad)
    assert_s3_error(r, 400, "InvalidPart")
    assert sig.request("HEAD", f"/{bucket}/ck").status_code == 404
    good = _complete_doc([(n, e, {elem: _b64_sum(algo, p)})
                          for n, (e, p) in enumerate(zip(etags, CK_PARTS), 1)])
    want = _composite_b64(algo, CK_PARTS)
    # the object's checksum in a header must be this one; a FULL_OBJECT type is not the upload's
    for h in ({"x-amz-checksum-" + lower: _b64_sum(algo, b"".join(CK_PARTS))},
              {"x-amz-checksum-type": "FULL_OBJECT"}):
        r = sig.request("POST", f"/{bucket}/ck", query=[("uploadId", uid)], body=good, headers=h)
        assert_s3_error(r, 400, "BadDigest")
    r = sig.request("POST", f"/{bucket}/ck", query=[("uploadId", uid)], body=good,
                    headers={"x-amz-checksum-" + lower: want})
    assert r.status_code == 200, r.text
    assert _xml_text(r, elem) == want
    assert _xml_text(r, "ChecksumType") == "COMPOSITE"
    assert _xml_text(r, "ETag") == mp_etag(CK_PARTS)
    _check_read_back(sig, bucket, "ck", b"".join(CK_PARTS), algo, want, "COMPOSITE")


@pytest.mark.parametrize("algo,ctype", [("CRC32", "FULL_OBJECT"), ("CRC32C", "FULL_OBJECT"),
                                        ("CRC64NVME", None), ("CRC64NVME", "FULL_OBJECT")])
def test_full_object_crc(server, bucket, algo, ctype):
    """FULL_OBJECT CRCs: the CRC of the whole object, combined from the parts'. CRC64NVME is
    full-object without asking (S3 has no composite CRC64NVME)."""
    sig = Signed(server)
    lower = algo.lower()
    headers = {"x-amz-checksum-algorithm": algo}
    if ctype:
        headers["x-amz-checksum-type"] = ctype
    r, uid = _create_upload(sig, bucket, "fo", headers)
    assert r.headers.get("x-amz-checksum-type") == "FULL_OBJECT"
    parts = CK_PARTS
    done = list(enumerate(_upload_checked_parts(sig, bucket, "fo", uid, algo, parts), 1))
    # part 1 listed with part 2's CRC: refused, nothing created
    bad = _complete_doc([(1, done[0][1], {"Checksum" + algo: _b64_sum(algo, parts[1])}),
                         (2, done[1][1], {})])
    r = sig.request("POST", f"/{bucket}/fo", query=[("uploadId", uid)], body=bad)
    assert_s3_error(r, 400, "InvalidPart")
    assert sig.request("HEAD", f"/{bucket}/fo").status_code == 404
    want = _full_object_crc_b64(algo, parts)
    doc = _complete_doc([(n, e, {}) for n, e in done])
    # the whole object's checksum, when the client sends it, must be the object's; the type,
    # when sent, the upload's; a checksum of another algorithm is not this upload's
    other = "sha1" if algo != "SHA1" else "sha256"
    for h, code in (({"x-amz-checksum-" + lower: _wrong_b64(algo, b"".join(parts))}, "BadDigest"),
                    ({"x-amz-checksum-type": "COMPOSITE"}, "BadDigest"),
                    ({"x-amz-checksum-" + other: "AAAA"}, "InvalidRequest")):
        r = sig.request("POST", f"/{bucket}/fo", query=[("uploadId", uid)], body=doc, headers=h)
        assert_s3_error(r, 400, code)
        assert sig.request("HEAD", f"/{bucket}/fo").status_code == 404
    r = sig.request("POST", f"/{bucket}/fo", query=[("uploadId", uid)], body=doc,
                    headers={"x-amz-checksum-" + lower: want, "x-amz-checksum-type": "FULL_OBJECT"})
    assert r.status_code == 200, r.text
    assert _xml_text(r, "Checksum" + algo) == want
    assert _xml_text(r, "ChecksumType") == "FULL_OBJECT"
    _check_read_back(sig, bucket, "fo", b"".join(parts), algo, want, "FULL_OBJECT")


@pytest.mark.parametrize("algo,ctype", [("SHA256", "COMPOSITE"), ("CRC64NVME", "FULL_OBJECT")])
def test_part_without_checksum_in_checksum_upload(server, bucket, algo, ctype):
    """An upload created with a checksum algorithm gets a part that names no checksum. In a
    COMPOSITE upload it is refused at once, as S3 does ("Checksum Type mismatch occurred,
    expected checksum Type: sha256, actual checksum Type: null"): the object's checksum is made
    of the client's part checksums. In a FULL_OBJECT upload the server computes the part's CRC
    (the object's CRC is combined from the parts'), answers it, and the upload completes with
    the right whole-object CRC, whether or not the completion lists it."""
    sig = Signed(server)
    lower, elem = algo.lower(), "Checksum" + algo
    p = rand_bytes(3000, seed=73)
    _, uid = _create_upload(sig, bucket, "nc", {"x-amz-checksum-algorithm": algo,
                                                 "x-amz-checksum-type": ctype})
    q = [("partNumber", "1"), ("uploadId", uid)]
    r = sig.request("PUT", f"/{bucket}/nc", query=q, body=p)
    if ctype == "COMPOSITE":
        assert_s3_error(r, 400, "InvalidRequest")
        assert "expected checksum Type: %s, actual checksum Type: null" % lower in r.text, r.text
        lp = sig.request("GET", f"/{bucket}/nc", query=[("uploadId", uid)])
        assert "<Part>" not in lp.text, lp.text  # nothing stored
        r = sig.request("PUT", f"/{bucket}/nc", query=q, body=p,
                        headers={"x-amz-checksum-" + lower: _b64_sum(algo, p)})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"%s"' % md5hex(p)
    assert r.headers.get("x-amz-checksum-" + lower) == _b64_sum(algo, p)
    lp = sig.request("GET", f"/{bucket}/nc", query=[("uploadId", uid)])
    assert _xml_text(lp, elem) == _b64_sum(algo, p), lp.text
    sums = {elem: _b64_sum(algo, p)} if ctype == "COMPOSITE" else {}
    c = sig.request("POST", f"/{bucket}/nc", query=[("uploadId", uid)],
                    body=_complete_doc([(1, r.headers["ETag"], sums)]))
    assert c.status_code == 200, c.text
    want = _composite_b64(algo, [p]) if ctype == "COMPOSITE" else _b64_sum(algo, p)
    assert _xml_text(c, elem) == want and _xml_text(c, "ChecksumType") == ctype
    _check_read_back(sig, bucket, "nc", p, algo, want, ctype)


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
    # what S3 answers (not 416 InvalidRange): 400 InvalidArgument naming the source's size
    assert err_code(ei.value) == "InvalidArgument" and http_status(ei.value) == 400
    assert ei.value.response["Error"]["Message"] == (
        "Range specified is not valid for source object of size: %d" % (7 * MiB))
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


def test_stale_cleanup_keeps_young_uploads(fresh_server):
    """--stale-uploads-after: a cleanup pass aborts the uploads initiated longer ago than the age
    and keeps the younger ones, of the same key. The server is down while the old upload ages,
    and started again about a second before it becomes stale: the first pass after the restart
    (the drive monitor's first tick, ~2 s) finds it stale, and the upload created right after
    the restart, before that pass, about 2 s old."""
    age = 6
    srv = fresh_server(extra_args=["--stale-uploads-after", f"{age}s"])
    s3 = srv.client()
    s3.create_bucket(Bucket="stale")
    t_old = time.time()
    old = s3.create_multipart_upload(Bucket="stale", Key="k")["UploadId"]
    s3.upload_part(Bucket="stale", Key="k", UploadId=old, PartNumber=1, Body=b"o" * 1000)
    srv.stop()
    time.sleep(max(0.0, t_old + age - 1.0 - time.time()))
    srv.start()
    t_young = time.time()
    young = s3.create_multipart_upload(Bucket="stale", Key="k")["UploadId"]
    s3.upload_part(Bucket="stale", Key="k", UploadId=young, PartNumber=1, Body=b"y" * 1000)

    def listed():
        return {u["UploadId"] for u in s3.list_multipart_uploads(Bucket="stale").get("Uploads", [])}

    wait_until(lambda: old not in listed(), 15, 0.1, "the stale upload to be removed")
    left, t_seen = listed(), time.time()
    # a correct server may drop `young` only once it is `age` old: not yet
    assert t_seen < t_young + age, "no cleanup pass within the stale age after the restart"
    assert left == {young}
    with pytest.raises(ClientError) as ei:
        s3.list_parts(Bucket="stale", Key="k", UploadId=old)
    assert err_code(ei.value) == "NoSuchUpload"
    assert [p["Size"] for p in
            s3.list_parts(Bucket="stale", Key="k", UploadId=young)["Parts"]] == [1000]
    # and once it is old enough, it goes too
    wait_until(lambda: listed() == set(), age + 10, 0.2, "the second upload to become stale")
    assert time.time() >= t_young + age - 0.5


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
