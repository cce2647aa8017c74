"""DeleteObjects as one batch (issue 17): 1,000 keys deleted in one request
(objlayer_delete_many: one index transaction per drive), the answer in the
request's order, and every kind of key in one batch (existing, absent,
conditional that holds or not, invalid, given twice) answered as the keys
would be one by one."""

import base64
import hashlib
import re
import time
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from helpers import TIME_SCALE, Signed, http_status, md5hex


def _post_delete(sig, bucket, objs, quiet=False):
    """DeleteObjects of (key, etag or None) pairs; the answer's entries in document order."""
    body = ("<Delete>" + ("<Quiet>true</Quiet>" if quiet else "") + "".join(
        f"<Object><Key>{k}</Key>" + (f"<ETag>{e.replace(chr(34), '&quot;')}</ETag>" if e else "") +
        "</Object>" for k, e in objs) + "</Delete>").encode()
    r = sig.request("POST", f"/{bucket}", query=[("delete", "")], body=body,
                    headers={"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()})
    assert r.status_code == 200, r.text
    entries = re.findall(r"<(Deleted|Error)><Key>([^<]*)</Key>(?:<Code>([^<]*)</Code>)?", r.text)
    return [(kind, key, code or None) for kind, key, code in entries]


def _put_all(s3, bucket, keys):
    def put(k):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())

    with ThreadPoolExecutor(16) as ex:
        list(ex.map(put, keys))


def test_delete_objects_1000_keys(s3, server, bucket):
    keys = [f"many/{i:04d}" for i in range(1000)]
    _put_all(s3, bucket, keys)
    s3.put_object(Bucket=bucket, Key="keep", Body=b"keep")
    order = keys[500:] + keys[:500]  # not sorted: the answer follows the request
    t0 = time.monotonic()
    got = _post_delete(Signed(server), bucket, [(k, None) for k in order])
    took = time.monotonic() - t0
    print(f"DeleteObjects of 1,000 keys: {took * 1000:.0f} ms")
    assert got == [("Deleted", k, None) for k in order]
    # one index transaction per drive, not one per key (about 13 s key by key, fsync on)
    assert took < 3 * TIME_SCALE, f"{took:.1f} s"
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed.get("Contents", [])] == ["keep"]

    def status(k):
        try:
            s3.get_object(Bucket=bucket, Key=k)
            return 200
        except ClientError as e:
            return http_status(e)

    with ThreadPoolExecutor(16) as ex:
        assert set(ex.map(status, keys)) == {404}
    # the same 1,000 again, quiet: nothing to say, nothing left
    got = _post_delete(Signed(server), bucket, [(k, None) for k in keys], quiet=True)
    assert got == []


def test_delete_objects_mixed_keys_in_request_order(s3, server, bucket):
    for k in ("x/a", "x/b", "x/match", "x/stale", "x/twice", "x/cond-twice"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    objs = [
        ("x/b", None),
        ("x/absent", None),
        ("x/stale", '"%s"' % md5hex(b"old")),
        ("x/match", '"%s"' % md5hex(b"x/match")),
        ("x/gone", md5hex(b"g")),
        ("x/" + "k" * 1030, None),
        ("x/twice", None),
        ("x/a", None),
        ("x/twice", None),
        ("x/cond-twice", '"%s"' % md5hex(b"nope")),
        ("x/cond-twice", '"%s"' % md5hex(b"x/cond-twice")),
        ("x/cond-twice", '"%s"' % md5hex(b"x/cond-twice")),
    ]
    got = _post_delete(Signed(server), bucket, objs)
    assert got == [
        ("Deleted", "x/b", None),
        ("Deleted", "x/absent", None),
        ("Error", "x/stale", "PreconditionFailed"),
        ("Deleted", "x/match", None),
        ("Error", "x/gone", "NoSuchKey"),
        ("Error", "x/" + "k" * 1030, "KeyTooLongError"),
        ("Deleted", "x/twice", None),
        ("Deleted", "x/a", None),
        ("Deleted", "x/twice", None),  # gone by then: fine without a condition
        ("Error", "x/cond-twice", "PreconditionFailed"),
        ("Deleted", "x/cond-twice", None),
        ("Error", "x/cond-twice", "NoSuchKey"),  # deleted by the one before
    ]
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="x/").get("Contents", [])]
    assert left == ["x/stale"]
    assert s3.get_object(Bucket=bucket, Key="x/stale")["Body"].read() == b"x/stale"
    # quiet: the errors only, still in order
    got = _post_delete(Signed(server), bucket, [("x/stale", md5hex(b"no")), ("x/b", None),
                                                ("x/gone", md5hex(b"g"))], quiet=True)
    assert got == [("Error", "x/stale", "PreconditionFailed"), ("Error", "x/gone", "NoSuchKey")]
