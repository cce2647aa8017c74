// The AWS SDK for JavaScript v3, as an application uses it: default settings
// (checksums included) but for the endpoint, path-style addressing and one
// attempt. Driven by tests/e2e/test_client_js.py:
//
//   node sdk.mjs OP '{"bucket": ..., "key": ..., ...}'
//   node sdk.mjs batch '[[OP, {...}], [OP, {...}], ...]'   (one process, a list of results)
//
// Endpoint and credentials come from BASALT_ENDPOINT, BASALT_ACCESS_KEY,
// BASALT_SECRET_KEY. Prints one JSON object on stdout; on an error prints
// {"error": name, "status": http status, "message": ...} and exits 1.
// Downloads are written to a file and hashed here (sha256), so the test
// compares bytes, not statuses.
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync, writeFileSync } from "node:fs";
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  DeleteObjectCommand, ListObjectsV2Command, DeleteBucketCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const [op, argJson] = process.argv.slice(2);
const input = JSON.parse(argJson || "{}");
let a = input; // the arguments of the op running

const makeClient = (extra = {}) => new S3Client({
  endpoint: process.env.BASALT_ENDPOINT,
  region: "us-east-1",
  forcePathStyle: true,
  maxAttempts: 1,
  credentials: {
    accessKeyId: process.env.BASALT_ACCESS_KEY,
    secretAccessKey: process.env.BASALT_SECRET_KEY,
  },
  ...extra,
});
const client = makeClient();

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

function body() {
  // "buffer": the bytes in memory (length known); "stream": a file stream
  // with its length given, as applications upload files.
  if (a.body === "stream") return createReadStream(a.file);
  return readFileSync(a.file);
}

const ops = {
  async mb() {
    await client.send(new CreateBucketCommand({ Bucket: a.bucket }));
    return {};
  },
  async rb() {
    await client.send(new DeleteBucketCommand({ Bucket: a.bucket }));
    return {};
  },
  async put() {
    const p = { Bucket: a.bucket, Key: a.key, Body: body() };
    if (a.body === "stream") p.ContentLength = statSync(a.file).size;
    if (a.contentType) p.ContentType = a.contentType;
    if (a.metadata) p.Metadata = a.metadata;
    const r = await client.send(new PutObjectCommand(p));
    return { ETag: r.ETag };
  },
  async get() {
    const p = { Bucket: a.bucket, Key: a.key };
    if (a.range) p.Range = a.range;
    const r = await client.send(new GetObjectCommand(p));
    const bytes = Buffer.from(await r.Body.transformToByteArray());
    if (a.out) writeFileSync(a.out, bytes);
    return {
      sha256: sha256(bytes), length: bytes.length, ContentLength: r.ContentLength,
      ETag: r.ETag, ContentType: r.ContentType, Metadata: r.Metadata,
    };
  },
  async head() {
    const p = { Bucket: a.bucket, Key: a.key };
    if (a.checksumMode) p.ChecksumMode = "ENABLED";
    const r = await client.send(new HeadObjectCommand(p));
    return { ContentLength: r.ContentLength, ETag: r.ETag, ContentType: r.ContentType,
             Metadata: r.Metadata, ChecksumCRC32: r.ChecksumCRC32 };
  },
  async list() {
    const keys = [];
    let token;
    let pages = 0;
    do {
      const r = await client.send(new ListObjectsV2Command({
        Bucket: a.bucket, Prefix: a.prefix, MaxKeys: a.maxKeys, ContinuationToken: token,
      }));
      for (const o of r.Contents || []) keys.push({ Key: o.Key, Size: o.Size, ETag: o.ETag });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
      pages++;
    } while (token && pages < 1000);
    return { keys, pages };
  },
  async del() {
    await client.send(new DeleteObjectCommand({ Bucket: a.bucket, Key: a.key }));
    return {};
  },
  async upload() {
    // lib-storage: multipart above partSize, parts in parallel (queueSize)
    const up = new Upload({
      client,
      params: { Bucket: a.bucket, Key: a.key, Body: createReadStream(a.file) },
      partSize: a.partSize || 5 * 1024 * 1024,
      queueSize: a.queueSize || 4,
      leavePartsOnError: false,
    });
    const r = await up.done();
    return { ETag: r.ETag };
  },
  async presign() {
    // method: GET | PUT | HEAD | DELETE. With the default settings the SDK presigns PutObject
    // with the CRC32 of an empty body in the URL (x-amz-checksum-crc32=AAAAAA==);
    // "checksum": "WHEN_REQUIRED" presigns with a client that adds no checksum, as AWS
    // documents for presigned uploads.
    const signer = a.checksum === "WHEN_REQUIRED"
      ? makeClient({ requestChecksumCalculation: "WHEN_REQUIRED" }) : client;
    const cmds = { GET: GetObjectCommand, PUT: PutObjectCommand, HEAD: HeadObjectCommand,
                   DELETE: DeleteObjectCommand };
    const url = await getSignedUrl(signer, new cmds[a.method]({ Bucket: a.bucket, Key: a.key }),
                                   { expiresIn: a.expires || 600 });
    return { url };
  },
};

function describe(e) {
  return {
    error: e.name || String(e), code: e.Code ?? e.code,
    status: e.$metadata?.httpStatusCode ?? e.statusCode, message: e.message,
  };
}

// One op, or "batch": a list of [op, args] run in order in this one process (node and the SDK
// take a few hundred milliseconds to start), each answering its result or its error.
if (op === "batch") {
  const out = [];
  for (const [o, args] of input) {
    try {
      if (!ops[o]) throw new Error(`unknown op ${o}`);
      a = args;
      out.push(await ops[o]());
    } catch (e) {
      out.push(describe(e));
    }
  }
  process.stdout.write(JSON.stringify(out) + "\n");
} else {
  try {
    if (!ops[op]) throw new Error(`unknown op ${op}`);
    process.stdout.write(JSON.stringify(await ops[op]()) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify(describe(e)) + "\n");
    process.exit(1);
  }
}
