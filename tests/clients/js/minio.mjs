// The minio JavaScript client (minio-js), default settings but for the
// endpoint. Driven by tests/e2e/test_client_js.py:
//
//   node minio.mjs OP '{"bucket": ..., "key": ..., ...}'
//   node minio.mjs batch '[[OP, {...}], [OP, {...}], ...]'   (one process, a list of results)
//
// Endpoint and credentials come from BASALT_ENDPOINT, BASALT_ACCESS_KEY,
// BASALT_SECRET_KEY. Prints one JSON object on stdout; on an error prints
// {"error": ..., "code": ..., "message": ...} and exits 1.
//
// putObject of a stream switches to multipart above its part size (64 MiB by
// default; "partSize" in the arguments lowers it to keep the test small);
// a Buffer is always sent as one PUT.
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync, writeFileSync } from "node:fs";
import * as Minio from "minio";

const [op, argJson] = process.argv.slice(2);
const input = JSON.parse(argJson || "{}");
let a = input; // the arguments of the op running
const ep = new URL(process.env.BASALT_ENDPOINT);

const opts = {
  endPoint: ep.hostname,
  port: Number(ep.port),
  useSSL: false,
  accessKey: process.env.BASALT_ACCESS_KEY,
  secretKey: process.env.BASALT_SECRET_KEY,
  region: "us-east-1",
  pathStyle: true,
};
// one client per part size ("partSize" in an op's arguments overrides minio-js's default)
const clients = new Map();
function mc() {
  const key = a.partSize || 0;
  if (!clients.has(key)) {
    clients.set(key, new Minio.Client(a.partSize ? { ...opts, partSize: a.partSize } : opts));
  }
  return clients.get(key);
}

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

async function readAll(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

const ops = {
  async mb() {
    await mc().makeBucket(a.bucket, "us-east-1");
    return { exists: await mc().bucketExists(a.bucket) };
  },
  async put() {
    const meta = a.metadata || {};
    let r;
    if (a.body === "buffer") {
      r = await mc().putObject(a.bucket, a.key, readFileSync(a.file), undefined, meta);
    } else {
      r = await mc().putObject(a.bucket, a.key, createReadStream(a.file),
                                 statSync(a.file).size, meta);
    }
    return { etag: r.etag };
  },
  async fput() {
    const r = await mc().fPutObject(a.bucket, a.key, a.file, a.metadata || {});
    return { etag: r.etag };
  },
  async get() {
    const bytes = await readAll(await mc().getObject(a.bucket, a.key));
    if (a.out) writeFileSync(a.out, bytes);
    return { sha256: sha256(bytes), length: bytes.length };
  },
  async getPartial() {
    const bytes = await readAll(await mc().getPartialObject(a.bucket, a.key, a.offset, a.length));
    return { sha256: sha256(bytes), length: bytes.length };
  },
  async stat() {
    const s = await mc().statObject(a.bucket, a.key);
    return { size: s.size, etag: s.etag, metaData: s.metaData };
  },
  async list() {
    // listObjectsV2: a stream of {name, size, etag} (and {prefix} when not recursive)
    const items = [];
    await new Promise((resolve, reject) => {
      const s = mc().listObjectsV2(a.bucket, a.prefix || "", a.recursive !== false, a.startAfter);
      s.on("data", (o) => items.push(o.name !== undefined
        ? { name: o.name, size: o.size, etag: o.etag } : { prefix: o.prefix }));
      s.on("error", reject);
      s.on("end", resolve);
    });
    return { items };
  },
  async presignGet() {
    return { url: await mc().presignedGetObject(a.bucket, a.key, a.expires || 600) };
  },
  async presignPut() {
    return { url: await mc().presignedPutObject(a.bucket, a.key, a.expires || 600) };
  },
  async del() {
    await mc().removeObject(a.bucket, a.key);
    return {};
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
