"""Signature Version 2 (src/auth/sigv2.h): what botocore makes at its defaults (presigned URLs
and POST forms: boto3, the aws CLI v1) and with signature_version="s3" (every request), with
the bad input that must be refused. The clients here keep botocore's defaults except
path-style addressing and one attempt; the other e2e files presign with s3v4."""

import base64
import email.utils
import hashlib
import hmac
import time
import urllib.parse

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers import (REGION, TIME_SCALE, assert_s3_error, err_code, get_bytes, http_status,
                     md5hex, rand_bytes, sha)

MiB = 1 << 20


def v2_client(server, sk=None, ak=None, **cfg):
    """boto3 at its defaults (no signature_version: presigning is SigV2), or with `cfg`."""
    conf = dict(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"})
    conf.update(cfg)
    return boto3.client("s3", endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=ak or server.access_key,
                        aws_secret_access_key=sk or server.secret_key, config=Config(**conf))


def presign(c, op, expires=600, **params):
    url = c.generate_presigned_url(op, Params=params, ExpiresIn=expires)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert "AWSAccessKeyId" in q and "Signature" in q and "X-Amz-Signature" not in q, url
    return url


def test_default_presigned_urls(server, s3, bucket):
    c = v2_client(server)
    data = rand_bytes(1 * MiB + 11, seed=31)
    s3.put_object(Bucket=bucket, Key="v2/get me", Body=data)
    u = presign(c, "get_object", Bucket=bucket, Key="v2/get me")
    r = requests.get(u, timeout=30)
    assert r.status_code == 200 and sha(r.content) == sha(data), r.text[:300]
    r = requests.get(u, headers={"Range": "bytes=10-19"}, timeout=30)
    assert r.status_code == 206 and r.content == data[10:20]
    # a response override is part of the signed resource
    u = presign(c, "get_object", Bucket=bucket, Key="v2/get me", ResponseContentType="x/y",
                ResponseContentDisposition="attachment; filename=\"a b.bin\"")
    r = requests.get(u, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "x/y"
    assert r.headers["Content-Disposition"] == 'attachment; filename="a b.bin"'
    r = requests.get(u.replace("x%2Fy", "x%2Fz"), timeout=30)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    # PUT with a content type and metadata: botocore moves them into the query
    up = rand_bytes(200_003, seed=32)
    u = presign(c, "put_object", Bucket=bucket, Key="v2/put", ContentType="text/x-v2",
                Metadata={"origin": "presigned v2"})
    r = requests.put(u, data=up, timeout=30)
    assert r.status_code == 200 and r.headers["ETag"] == f'"{md5hex(up)}"', r.text
    o = s3.get_object(Bucket=bucket, Key="v2/put")
    assert sha(o["Body"].read()) == sha(up)
    assert o["ContentType"] == "text/x-v2" and o["Metadata"] == {"origin": "presigned v2"}
    r = requests.put(u, data=up, headers={"Content-Type": "text/other"}, timeout=30)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")  # not the content type signed
    h = presign(c, "head_object", Bucket=bucket, Key="v2/put")
    r = requests.head(h, timeout=30)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(up)
    r = requests.delete(presign(c, "delete_object", Bucket=bucket, Key="v2/put"), timeout=30)
    assert r.status_code == 204
    assert requests.head(h, timeout=30).status_code == 404
    # the URL names its object: another key, bucket or method is refused
    for bad in (u.replace("/v2/put", "/v2/other"), u.replace(f"/{bucket}/", "/other-bucket/")):
        assert_s3_error(requests.put(bad, data=b"x", timeout=30), 403, "SignatureDoesNotMatch")
    u = presign(c, "get_object", Bucket=bucket, Key="v2/get me")
    assert_s3_error(requests.delete(u, timeout=30), 403, "SignatureDoesNotMatch")
    assert get_bytes(s3, bucket, "v2/get me") == data


def test_default_presigned_multipart(server, s3, bucket):
    c = v2_client(server)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="v2/mp")["UploadId"]
    parts = [rand_bytes(5 * MiB, seed=33), rand_bytes(777, seed=34)]
    etags = []
    for n, part in enumerate(parts, 1):
        u = presign(c, "upload_part", Bucket=bucket, Key="v2/mp", UploadId=uid, PartNumber=n)
        r = requests.put(u, data=part, timeout=60 * TIME_SCALE)
        assert r.status_code == 200 and r.headers["ETag"] == f'"{md5hex(part)}"', r.text
        etags.append(r.headers["ETag"])
    # the part number is signed: the URL of part 1 does not upload part 3
    r = requests.put(u.replace("partNumber=2", "partNumber=3"), data=b"x", timeout=30)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    body = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"
        for n, e in enumerate(etags, 1)) + "</CompleteMultipartUpload>"
    u = presign(c, "complete_multipart_upload", Bucket=bucket, Key="v2/mp", UploadId=uid)
    r = requests.post(u, data=body, timeout=60 * TIME_SCALE)
    assert r.status_code == 200, r.text
    assert sha(get_bytes(s3, bucket, "v2/mp")) == sha(b"".join(parts))


def test_presigned_v2_bad_credentials_and_expiry(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="v2/secret", Body=b"s")
    wrong = v2_client(server, sk="not-the-secret")
    r = requests.get(presign(wrong, "get_object", Bucket=bucket, Key="v2/secret"), timeout=30)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    nokey = v2_client(server, ak="NOSUCHKEY")
    r = requests.get(presign(nokey, "get_object", Bucket=bucket, Key="v2/secret"), timeout=30)
    assert_s3_error(r, 403, "InvalidAccessKeyId")
    c = v2_client(server)
    u = presign(c, "get_object", expires=1, Bucket=bucket, Key="v2/secret")
    time.sleep(2.2)
    assert_s3_error(requests.get(u, timeout=30), 403, "AccessDenied")
    # the three parameters are needed
    u = presign(c, "get_object", Bucket=bucket, Key="v2/secret")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(u).query))
    base = u.split("?")[0]
    for drop in ("Signature", "Expires"):
        r = requests.get(base, params={k: v for k, v in q.items() if k != drop}, timeout=30)
        assert_s3_error(r, 403, "AccessDenied")
        assert "requires the Signature, Expires and AWSAccessKeyId" in r.text, r.text
    # a SigV2 URL that also carries SigV4 parameters
    r = requests.get(u + "&X-Amz-Signature=abc", timeout=30)
    assert_s3_error(r, 400, "AuthorizationQueryParametersError")
    assert "only one authentication mechanism" in r.text, r.text


def test_default_presigned_post(server, s3, bucket):
    c = v2_client(server)
    data = rand_bytes(300_001, seed=35)
    form = c.generate_presigned_post(
        bucket, "v2post/${filename}", Fields={"Content-Type": "x/v2"},
        Conditions=[{"Content-Type": "x/v2"}, ["content-length-range", 1, 1 << 20]],
        ExpiresIn=600)
    assert "AWSAccessKeyId" in form["fields"] and "signature" in form["fields"]

    def post(fields, payload, name="f.bin"):
        return requests.post(form["url"], data=fields, files={"file": (name, payload)},
                             timeout=30)

    r = post(form["fields"], data)
    assert r.status_code == 204, r.text
    assert r.headers["ETag"] == f'"{md5hex(data)}"'
    o = s3.get_object(Bucket=bucket, Key="v2post/f.bin")
    assert sha(o["Body"].read()) == sha(data) and o["ContentType"] == "x/v2"
    r = post(form["fields"], rand_bytes((1 << 20) + 1, seed=36), name="big.bin")
    assert_s3_error(r, 400, "EntityTooLarge")
    r = post({**form["fields"], "Content-Type": "x/other"}, data, name="ct.bin")
    assert_s3_error(r, 403, "AccessDenied")
    # the policy is what is signed
    tampered = dict(form["fields"])
    tampered["policy"] = base64.b64encode(
        base64.b64decode(tampered["policy"]).replace(b"1048576", b"99999999")).decode()
    r = post(tampered, data, name="tampered.bin")
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    r = post({**form["fields"], "signature": "AAAA" + form["fields"]["signature"][4:]}, data,
             name="badsig.bin")
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="v2post/")["Contents"]]
    assert keys == ["v2post/f.bin"]


def test_sigv2_header_client(server, s3, bucket):
    """signature_version="s3": every request signed "AWS key:signature". Not the operations
    whose URI template holds a query (?tagging, ?uploads, ?list-type=2, ?delete): Debian's
    botocore 1.29 signs "/b/k?tagging?tagging" or "/b?list-type=2" for them, resources S3 does
    not sign either; the newest boto3 does them in test_client_boto3.py."""
    c = v2_client(server, signature_version="s3")
    data = rand_bytes(2 * MiB + 5, seed=37)
    c.put_object(Bucket=bucket, Key="v2h/obj", Body=data, ContentType="a/b",
                 Metadata={"k": "v"})
    o = c.get_object(Bucket=bucket, Key="v2h/obj")
    assert sha(o["Body"].read()) == sha(data) and o["Metadata"] == {"k": "v"}
    c.copy_object(Bucket=bucket, Key="v2h/copy", CopySource={"Bucket": bucket, "Key": "v2h/obj"})
    assert sha(get_bytes(s3, bucket, "v2h/copy")) == sha(data)
    keys = [o["Key"] for o in c.list_objects(Bucket=bucket, Prefix="v2h/")["Contents"]]
    assert keys == ["v2h/copy", "v2h/obj"]
    for k in keys:
        c.delete_object(Bucket=bucket, Key=k)
    assert c.list_objects(Bucket=bucket, Prefix="v2h/").get("Contents", []) == []
    wrong = v2_client(server, sk="wrong", signature_version="s3")
    with pytest.raises(ClientError) as ei:
        wrong.list_objects(Bucket=bucket)
    assert err_code(ei.value) == "SignatureDoesNotMatch"


def raw_v2(server, method, path, date, body=b"", headers=None):
    """A request signed by hand: the string to sign of S3's SigV2 documentation."""
    h = {"Date": date, **(headers or {})}
    amz = "".join(f"{k.lower()}:{v}\n" for k, v in sorted(h.items(), key=lambda kv: kv[0].lower())
                  if k.lower().startswith("x-amz-"))
    sts = f"{method}\n{h.get('Content-MD5', '')}\n{h.get('Content-Type', '')}\n" \
          f"{'' if 'x-amz-date' in h else date}\n{amz}{path}"
    sig = base64.b64encode(hmac.new(server.secret_key.encode(), sts.encode(),
                                    hashlib.sha1).digest()).decode()
    h["Authorization"] = f"AWS {server.access_key}:{sig}"
    return requests.request(method, server.endpoint + path, data=body, headers=h, timeout=30)


def test_sigv2_header_dates(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="v2d", Body=b"dated")
    now = email.utils.formatdate(usegmt=True)
    r = raw_v2(server, "GET", f"/{bucket}/v2d", now)
    assert r.status_code == 200 and r.content == b"dated", r.text
    # S3's own examples write the zone as +0000; with x-amz-date the Date line is empty
    r = raw_v2(server, "GET", f"/{bucket}/v2d", time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                                                               time.gmtime()))
    assert r.status_code == 200 and r.content == b"dated", r.text
    r = raw_v2(server, "GET", f"/{bucket}/v2d", "", headers={"x-amz-date": now})
    assert r.status_code == 200 and r.content == b"dated", r.text
    old = email.utils.formatdate(time.time() - 20 * 60, usegmt=True)
    assert_s3_error(raw_v2(server, "GET", f"/{bucket}/v2d", old), 403, "RequestTimeTooSkewed")
    assert_s3_error(raw_v2(server, "GET", f"/{bucket}/v2d", "soon"), 403, "AccessDenied")
    # x-amz-content-sha256, signed as every x-amz-* header, is checked against the body
    r = raw_v2(server, "PUT", f"/{bucket}/v2sha", now, body=b"body",
               headers={"x-amz-content-sha256": hashlib.sha256(b"other").hexdigest()})
    assert_s3_error(r, 400, "XAmzContentSHA256Mismatch")
    r = raw_v2(server, "PUT", f"/{bucket}/v2sha", now, body=b"body",
               headers={"x-amz-content-sha256": hashlib.sha256(b"body").hexdigest()})
    assert r.status_code == 200 and get_bytes(s3, bucket, "v2sha") == b"body", r.text
    # x-amz-* headers are signed: one added afterwards breaks the signature
    r = raw_v2(server, "PUT", f"/{bucket}/v2d", now, body=b"new",
               headers={"x-amz-meta-a": "1"})
    assert r.status_code == 200, r.text
    h = {"Date": now, "x-amz-meta-a": "1", "x-amz-meta-b": "2",
         "Authorization": r.request.headers["Authorization"]}
    r = requests.put(server.endpoint + f"/{bucket}/v2d", data=b"newer", headers=h, timeout=30)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    assert get_bytes(s3, bucket, "v2d") == b"new"


def _raw(method, url, data=b""):
    """Sends `url`'s path and query exactly as written (requests would re-encode them)."""
    import http.client

    sp = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(sp.hostname, sp.port, timeout=30)
    c.request(method, sp.path + "?" + sp.query, body=data)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body, dict(r.getheaders())


def test_sigv2_date_before_epoch_denied(server, s3, bucket):
    """S3 answers a SigV2 request dated before 1970 (Date or x-amz-date) 403
    AccessDenied, as a request without a usable date, not RequestTimeTooSkewed
    (s3-tests test_object_create_bad_date_before_epoch_aws2 and the bucket
    one); a date long past but after 1970 stays RequestTimeTooSkewed."""
    s3.put_object(Bucket=bucket, Key="v2e", Body=b"x")
    old = "Tue, 07 Jul 1950 21:53:04 GMT"
    assert_s3_error(raw_v2(server, "GET", f"/{bucket}/v2e", old), 403, "AccessDenied")
    assert_s3_error(raw_v2(server, "GET", f"/{bucket}/v2e", "", headers={"x-amz-date": old}),
                    403, "AccessDenied")
    assert_s3_error(raw_v2(server, "PUT", f"/{bucket}/v2e", old, body=b"y"), 403, "AccessDenied")
    past = "Tue, 07 Jul 2010 21:53:04 GMT"
    assert_s3_error(raw_v2(server, "GET", f"/{bucket}/v2e", past), 403, "RequestTimeTooSkewed")
    assert get_bytes(s3, bucket, "v2e") == b"x"


def test_presigned_v2_cannot_become_another_operation(server, s3, bucket):
    """A sub-resource spelled with escapes ("%75ploadId") is the sub-resource the router sees: it
    is part of the signed resource, so adding one to a URL breaks the signature instead of
    turning a DELETE into an abort, a PUT into PutObjectTagging, a CreateBucket into
    PutBucketCors, a GET into ListParts or overriding the response's Content-Type."""
    c = v2_client(server)
    s3.put_object(Bucket=bucket, Key="k", Body=b"keep me", ContentType="text/plain")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    tag = b"<Tagging><TagSet><Tag><Key>evil</Key><Value>1</Value></Tag></TagSet></Tagging>"
    cors = (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
            b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
    cases = [
        ("DELETE", presign(c, "delete_object", Bucket=bucket, Key="k") + "&%75ploadId=" + uid, b""),
        ("PUT", presign(c, "put_object", Bucket=bucket, Key="k") + "&%74agging", tag),
        ("PUT", presign(c, "create_bucket", Bucket=bucket) + "&%63ors", cors),
        ("GET", presign(c, "get_object", Bucket=bucket, Key="k") + "&%75ploadId=" + uid, b""),
        ("GET", presign(c, "get_object", Bucket=bucket, Key="k").replace(
            "?", "?%72esponse-content-type=text%2Fhtml&", 1), b""),
    ]
    for method, url, body in cases:
        status, text, _ = _raw(method, url, body)
        assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in text, (url, status, text)
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_cors(Bucket=bucket)
    assert err_code(ei.value) == "NoSuchCORSConfiguration"
    o = s3.get_object(Bucket=bucket, Key="k")
    assert o["Body"].read() == b"keep me" and o["ContentType"] == "text/plain"
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=uid)


def test_presigned_v2_header_parameters(server, s3, bucket):
    """Content-Type and x-amz-* in a presigned URL's query are signed and become headers: a
    second spelling ("Content-Type" next to the signed "content-type"), or a value with a
    control character, is refused; a presigned CopyObject (x-amz-copy-source in the query) is a
    copy, not a PUT of an empty body over the destination."""
    c = v2_client(server)
    u = presign(c, "put_object", Bucket=bucket, Key="img", ContentType="image/png")
    base, q = u.split("?", 1)
    for extra in ("Content-Type=text%2Fhtml&", "CONTENT-TYPE=text%2Fhtml&"):
        status, text, _ = _raw("PUT", f"{base}?{extra}{q}", b"<script>1</script>")
        assert status == 400, (extra, status, text)
        assert b"<Code>AuthorizationQueryParametersError</Code>" in text, text
    u = presign(c, "put_object", Bucket=bucket, Key="nul")
    base, q = u.split("?", 1)
    for extra in ("Content-Type=text%2Fplain%00x-amz-meta-i%00yes&",
                  "Content-Type=text%2Fhtml%0D%0ASet-Cookie%3A%20a%3Db&"):
        status, text, _ = _raw("PUT", f"{base}?{extra}{q}", b"hi")
        assert status == 400, (extra, status, text)
        assert b"<Code>AuthorizationQueryParametersError</Code>" in text, text
    for k in ("img", "nul"):
        with pytest.raises(ClientError) as ei:
            s3.head_object(Bucket=bucket, Key=k)
        assert http_status(ei.value) == 404
    s3.put_object(Bucket=bucket, Key="src", Body=b"source data", Metadata={"m": "1"})
    s3.put_object(Bucket=bucket, Key="dst", Body=b"old")
    u = presign(c, "copy_object", Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    assert "x-amz-copy-source=" in u
    r = requests.put(u, timeout=30)
    assert r.status_code == 200 and "<CopyObjectResult" in r.text, r.text
    o = s3.get_object(Bucket=bucket, Key="dst")
    assert o["Body"].read() == b"source data" and o["Metadata"] == {"m": "1"}
