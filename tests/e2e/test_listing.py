"""ListObjects V1 and V2: prefix, delimiter, CommonPrefixes, max-keys, marker,
continuation-token, start-after, encoding-type=url, fetch-owner, and the exact
IsTruncated / NextMarker behaviour of S3."""

import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from helpers import S3NS, Signed, assert_s3_error, err_code, get_bytes, md5hex, sha, xml_error

KEYS = ["a", "a/", "a/b", "a/b/c", "a/c", "a0", "ab", "b/x", "b/y/z", "c", "d/e/f/g", "z"]


@pytest.fixture(scope="module")
def tree(s3):
    from conftest import bucket_name
    b = bucket_name("tree")
    s3.create_bucket(Bucket=b)
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=b, Key=k, Body=("body of " + k).encode()), KEYS))
    return b


def raw_list(server, bucket, **params):
    q = [(k.replace("_", "-"), str(v)) for k, v in params.items()]
    r = Signed(server).request("GET", f"/{bucket}", query=q)
    assert r.status_code == 200, r.text[:500]
    assert r.headers.get("x-amz-request-id")
    return ET.fromstring(r.content)


def txt(el, name):
    e = el.find(S3NS + name)
    return None if e is None else (e.text or "")


def contents(root):
    return [txt(c, "Key") for c in root.findall(S3NS + "Contents")]


def prefixes(root):
    return [txt(p, "Prefix") for p in root.findall(S3NS + "CommonPrefixes")]


def test_list_all_v2(s3, tree):
    r = s3.list_objects_v2(Bucket=tree)
    assert [o["Key"] for o in r["Contents"]] == sorted(KEYS)
    assert r["KeyCount"] == len(KEYS)
    assert r["IsTruncated"] is False
    for o in r["Contents"]:
        body = ("body of " + o["Key"]).encode()
        assert o["Size"] == len(body)
        assert o["ETag"] == f'"{md5hex(body)}"'
        assert o["LastModified"].year >= 2024
        assert "Owner" not in o  # only with fetch-owner
    # every listed key reads back
    for k in KEYS:
        assert get_bytes(s3, tree, k) == ("body of " + k).encode()


def test_object_and_prefix_coexist(s3, tree):
    r = s3.list_objects_v2(Bucket=tree, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a", "a0", "ab", "c", "z"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/", "d/"]
    assert r["KeyCount"] == 8
    r = s3.list_objects_v2(Bucket=tree, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a/", "a/b", "a/c"]
    assert [p["Prefix"] for p in r.get("CommonPrefixes", [])] == ["a/b/"]
    r = s3.list_objects_v2(Bucket=tree, Prefix="a")
    assert [o["Key"] for o in r["Contents"]] == ["a", "a/", "a/b", "a/b/c", "a/c", "a0", "ab"]
    r = s3.list_objects(Bucket=tree, Prefix="a", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a", "a0", "ab"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/"]
    assert get_bytes(s3, tree, "a") == b"body of a"
    assert get_bytes(s3, tree, "a/") == b"body of a/"
    assert get_bytes(s3, tree, "a/b") == b"body of a/b"


def test_prefix_delimiter_nested(s3, tree):
    r = s3.list_objects_v2(Bucket=tree, Prefix="d/", Delimiter="/")
    assert "Contents" not in r
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["d/e/"]
    r = s3.list_objects_v2(Bucket=tree, Prefix="b/y/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["b/y/z"]
    r = s3.list_objects_v2(Bucket=tree, Prefix="nothing")
    assert r["KeyCount"] == 0 and "Contents" not in r and r["IsTruncated"] is False
    # a delimiter other than /
    r = s3.list_objects_v2(Bucket=tree, Delimiter="b")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b", "ab", "b"]


def test_v2_paging_with_delimiter(s3, tree):
    seen_keys, seen_prefixes, token, pages = [], [], None, 0
    while pages < 20:
        kw = dict(Bucket=tree, Delimiter="/", MaxKeys=2)
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        pages += 1
        n = len(r.get("Contents", [])) + len(r.get("CommonPrefixes", []))
        assert n <= 2 and r["KeyCount"] == n
        seen_keys += [o["Key"] for o in r.get("Contents", [])]
        seen_prefixes += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            assert "NextContinuationToken" not in r
            break
        token = r["NextContinuationToken"]
    assert seen_keys == ["a", "a0", "ab", "c", "z"]
    assert seen_prefixes == ["a/", "b/", "d/"]
    assert pages == 4


def test_empty_delimiter_is_none(server, s3, tree):
    """S3 takes `delimiter=` (empty) as no delimiter: every key is listed, no
    CommonPrefixes, and the response carries no Delimiter element (boto3's
    ListObjects with Delimiter='' sees no 'Delimiter'), in V1 and V2 alike."""
    for lt in (1, 2):
        q = dict(delimiter="")
        if lt == 2:
            q["list_type"] = 2
        root = raw_list(server, tree, **q)
        assert root.find(S3NS + "Delimiter") is None
        assert contents(root) == sorted(KEYS) and prefixes(root) == []
        root = raw_list(server, tree, encoding_type="url", **q)
        assert root.find(S3NS + "Delimiter") is None
    r = s3.list_objects(Bucket=tree, Delimiter="")
    assert "Delimiter" not in r and "CommonPrefixes" not in r
    assert [o["Key"] for o in r["Contents"]] == sorted(KEYS)
    r = s3.list_objects_v2(Bucket=tree, Delimiter="")
    assert "Delimiter" not in r
    assert [o["Key"] for o in r["Contents"]] == sorted(KEYS)


def test_v2_empty_continuation_token_is_none(server, s3, tree):
    """S3 takes ListObjectsV2's `continuation-token=` (empty) as no token: the
    listing starts at the beginning, and the empty token is echoed as an empty
    ContinuationToken (boto3 sees ContinuationToken == '')."""
    root = raw_list(server, tree, list_type=2, continuation_token="")
    assert contents(root) == sorted(KEYS)
    assert txt(root, "ContinuationToken") == ""
    assert txt(root, "IsTruncated") == "false"
    r = s3.list_objects_v2(Bucket=tree, ContinuationToken="", MaxKeys=3)
    assert [o["Key"] for o in r["Contents"]] == sorted(KEYS)[:3]
    assert r["ContinuationToken"] == "" and r["IsTruncated"] is True
    # and the token it hands back works as usual
    r = s3.list_objects_v2(Bucket=tree, ContinuationToken=r["NextContinuationToken"], MaxKeys=3)
    assert [o["Key"] for o in r["Contents"]] == sorted(KEYS)[3:6]


def test_v1_prefix_echoed_as_sent(server, s3, tree):
    """ListObjects V1 echoes Prefix as the client sent it, even under
    encoding-type=url: the SDKs (botocore's decode_list_object) URL-decode a V1
    listing's Delimiter, Marker, NextMarker, keys and common prefixes but not
    its Prefix, so an encoded Prefix reached boto3 callers as '%0A' for '\n'.
    V2's Prefix stays encoded there (the SDKs decode it). A prefix that XML 1.0
    cannot carry (here \\x01) is still encoded under encoding-type=url, so that
    the listing stays readable by the parser of the client that asked for it."""
    for pfx in ("\n", "a b", "tab\tcr\r", "a/", "é&<"):
        root = raw_list(server, tree, prefix=pfx, encoding_type="url")
        assert txt(root, "Prefix") == pfx
        root = raw_list(server, tree, prefix=pfx)
        assert txt(root, "Prefix") == pfx
        root = raw_list(server, tree, list_type=2, prefix=pfx, encoding_type="url")
        assert urllib.parse.unquote_plus(txt(root, "Prefix")) == pfx
    root = raw_list(server, tree, prefix="x\x01y", encoding_type="url")  # well-formed XML
    assert urllib.parse.unquote_plus(txt(root, "Prefix")) == "x\x01y"
    r = s3.list_objects(Bucket=tree, Prefix="\n")
    assert r["Prefix"] == "\n" and "Contents" not in r
    r = s3.list_objects_v2(Bucket=tree, Prefix="\n")
    assert r["Prefix"] == "\n" and "Contents" not in r
    r = s3.list_objects(Bucket=tree, Prefix="a/")
    assert r["Prefix"] == "a/"
    assert [o["Key"] for o in r["Contents"]] == ["a/", "a/b", "a/b/c", "a/c"]


def test_v2_start_after_and_fetch_owner(server, s3, tree):
    r = s3.list_objects_v2(Bucket=tree, StartAfter="a/b")
    assert [o["Key"] for o in r["Contents"]] == [k for k in sorted(KEYS) if k > "a/b"]
    assert r["StartAfter"] == "a/b"
    r = s3.list_objects_v2(Bucket=tree, FetchOwner=True, MaxKeys=1)
    assert r["Contents"][0]["Owner"]["ID"]
    root = raw_list(server, tree, list_type=2, start_after="zzz")
    assert contents(root) == [] and txt(root, "KeyCount") == "0"
    assert txt(root, "IsTruncated") == "false"


def test_v1_next_marker_rules(server, s3, tree):
    # without a delimiter, S3 returns no NextMarker: the client uses the last key
    root = raw_list(server, tree, max_keys=3)
    assert contents(root) == sorted(KEYS)[:3]
    assert txt(root, "IsTruncated") == "true"
    assert txt(root, "NextMarker") is None
    assert txt(root, "MaxKeys") == "3"
    root = raw_list(server, tree, max_keys=3, marker=sorted(KEYS)[2])
    assert contents(root) == sorted(KEYS)[3:6]
    # with a delimiter and truncated: NextMarker is the last key or prefix returned
    root = raw_list(server, tree, max_keys=2, delimiter="/")
    assert contents(root) == ["a"] and prefixes(root) == ["a/"]
    assert txt(root, "IsTruncated") == "true"
    assert txt(root, "NextMarker") == "a/"
    root = raw_list(server, tree, max_keys=2, delimiter="/", marker="a/")
    assert contents(root) == ["a0", "ab"]
    assert txt(root, "NextMarker") == "ab"
    # not truncated: no NextMarker
    root = raw_list(server, tree, delimiter="/")
    assert txt(root, "IsTruncated") == "false" and txt(root, "NextMarker") is None
    # the last page exactly at max-keys is not truncated
    root = raw_list(server, tree, max_keys=len(KEYS))
    assert txt(root, "IsTruncated") == "false"
    assert len(contents(root)) == len(KEYS)


def test_v2_xml_shape(server, tree):
    root = raw_list(server, tree, list_type=2, prefix="a/", delimiter="/", max_keys=1000)
    assert root.tag == S3NS + "ListBucketResult"
    assert txt(root, "Name") == tree
    assert txt(root, "Prefix") == "a/"
    assert txt(root, "Delimiter") == "/"
    assert txt(root, "MaxKeys") == "1000"
    assert txt(root, "KeyCount") == "4"
    c = root.find(S3NS + "Contents")
    assert txt(c, "StorageClass") == "STANDARD"
    assert txt(c, "LastModified").endswith("Z")


def test_max_keys_capped_and_zero(server, tree):
    root = raw_list(server, tree, list_type=2, max_keys=5000)
    assert txt(root, "MaxKeys") in ("1000", "5000")
    assert len(contents(root)) == len(KEYS)
    root = raw_list(server, tree, list_type=2, max_keys=0)
    assert contents(root) == []
    assert txt(root, "KeyCount") == "0"


def test_invalid_max_keys(server, tree):
    r = Signed(server).request("GET", f"/{tree}", query=[("max-keys", "-1")])
    assert_s3_error(r, 400, "InvalidArgument")
    r = Signed(server).request("GET", f"/{tree}", query=[("list-type", "2"), ("max-keys", "abc")])
    assert_s3_error(r, 400, "InvalidArgument")


def test_list_empty_and_missing(s3, bucket):
    r = s3.list_objects_v2(Bucket=bucket)
    assert r["KeyCount"] == 0 and "Contents" not in r
    r = s3.list_objects(Bucket=bucket)
    assert "Contents" not in r and r["IsTruncated"] is False
    with pytest.raises(ClientError) as ei:
        s3.list_objects_v2(Bucket="no-such-bucket-list-e2e")
    assert err_code(ei.value) == "NoSuchBucket"


ODD_KEYS = ["sp ace", "plus+sign", "pct%2Fslash", "amp&lt", "quote\"'", "uni-é-中文-🙂",
            "ctl\x01x", "tab\tx", "del\x7fx", "lt<gt>", "q?x=1#f"]


def test_encoding_type_url(server, s3, bucket):
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=sha(k.encode()).encode())
    for lt in (1, 2):
        q = dict(encoding_type="url")
        if lt == 2:
            q["list_type"] = 2
        root = raw_list(server, bucket, **q)
        assert txt(root, "EncodingType") == "url"
        got = [urllib.parse.unquote_plus(k, errors="strict") for k in contents(root)]
        assert got == sorted(ODD_KEYS, key=lambda s: s.encode())
        for raw in contents(root):
            assert " " not in raw and "\x01" not in raw and "\t" not in raw
        # prefix and delimiter are url-encoded too
        root = raw_list(server, bucket, prefix="s", delimiter=" ", **q)
        assert txt(root, "Prefix") == "s"
        assert txt(root, "Delimiter") in ("+", "%20")
        assert [urllib.parse.unquote_plus(p) for p in prefixes(root)] == ["sp "]
    # boto3 asks for encoding-type=url and decodes
    r = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in r["Contents"]] == sorted(ODD_KEYS, key=lambda s: s.encode())
    for k in ODD_KEYS:
        assert get_bytes(s3, bucket, k) == sha(k.encode()).encode()


def test_no_encoding_xml_escaped(server, s3, bucket):
    keys = ["lt<gt>", "amp&x", "quote\"'", "uni-é-中文"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    root = raw_list(server, bucket, list_type=2)  # must be well-formed XML
    assert contents(root) == sorted(keys, key=lambda s: s.encode())


@pytest.fixture(scope="module")
def many(s3):
    """2,500 keys, some under prefixes, written with 16 threads."""
    from conftest import bucket_name
    b = bucket_name("many")
    s3.create_bucket(Bucket=b)
    keys = [f"k{i:05d}" for i in range(2000)] + [f"p/{i:04d}/x" for i in range(300)] + \
           [f"q{i:03d}/" for i in range(200)]
    keys = sorted(keys)

    def put(k):
        s3.put_object(Bucket=b, Key=k, Body=k.encode())

    with ThreadPoolExecutor(16) as ex:
        list(ex.map(put, keys))
    return b, keys


@pytest.mark.parametrize("max_keys", [1000, 7])
def test_paging_v2(s3, many, max_keys):
    b, keys = many
    seen, token, pages = [], None, 0
    limit = len(keys) // max_keys + 3
    while pages < limit:
        kw = dict(Bucket=b, MaxKeys=max_keys)
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        pages += 1
        page = [o["Key"] for o in r.get("Contents", [])]
        assert r["KeyCount"] == len(page)
        seen += page
        if not r["IsTruncated"]:
            break
        assert len(page) == max_keys
        token = r["NextContinuationToken"]
    assert seen == keys
    assert pages == -(-len(keys) // max_keys)


@pytest.mark.parametrize("max_keys", [1000, 7])
def test_paging_v1(s3, many, max_keys):
    b, keys = many
    seen, marker, pages = [], "", 0
    limit = len(keys) // max_keys + 3
    while pages < limit:
        r = s3.list_objects(Bucket=b, MaxKeys=max_keys, Marker=marker)
        pages += 1
        page = [o["Key"] for o in r.get("Contents", [])]
        seen += page
        if not r["IsTruncated"]:
            break
        assert "NextMarker" not in r  # no delimiter: no NextMarker
        marker = page[-1]
    assert seen == keys


def test_paging_v1_delimiter(s3, many):
    b, keys = many
    exp_keys = [k for k in keys if "/" not in k]
    exp_prefixes = ["p/"] + sorted({k for k in keys if k.startswith("q")})
    seen_k, seen_p, marker, pages = [], [], "", 0
    while pages < 400:
        r = s3.list_objects(Bucket=b, MaxKeys=7, Marker=marker, Delimiter="/")
        pages += 1
        seen_k += [o["Key"] for o in r.get("Contents", [])]
        seen_p += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        marker = r["NextMarker"]
    assert seen_k == exp_keys
    assert seen_p == exp_prefixes
    # one page of 1000 with delimiter: p/ rolls up 300 keys into one prefix
    r = s3.list_objects_v2(Bucket=b, Delimiter="/", MaxKeys=1000, StartAfter="k01990")
    assert [o["Key"] for o in r["Contents"]] == [k for k in exp_keys if k > "k01990"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == exp_prefixes
    assert r["IsTruncated"] is False
    # reading a sample back
    for k in keys[::250]:
        assert get_bytes(s3, b, k) == k.encode()


def test_bad_continuation_token(server, tree):
    for tok in ["!!!not-base64!!!", "", "AAAA", "x" * 2000]:
        r = Signed(server).request("GET", f"/{tree}", query=[("list-type", "2"),
                                                             ("continuation-token", tok)])
        if tok == "":
            assert r.status_code in (200, 400), r.text
            continue
        assert r.status_code in (200, 400), (tok, r.status_code, r.text)
        if r.status_code == 400:
            assert xml_error(r.content)["Code"] == "InvalidArgument"
        else:  # a token taken as a start key: still a well-formed, sorted listing
            keys = contents(ET.fromstring(r.content))
            assert keys == sorted(keys)
    assert server.alive()
