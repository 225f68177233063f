#!/usr/bin/env node
/*
 * The JavaScript SDK (@azure/storage-blob) as a benchmark client.
 *
 *   node js_client.js upload-file SRC BLOB
 *   node js_client.js download-file BLOB DEST
 *   node js_client.js upload-dir SRCDIR PREFIX
 *   node js_client.js download-dir PREFIX DESTDIR
 *
 * Environment: BENCH_CONNECTION_STRING, BENCH_CONTAINER, BENCH_CONCURRENCY
 * (default 16), BENCH_BLOCK_SIZE (bytes, default 8 MiB).
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { BlobServiceClient } = require('@azure/storage-blob');

const concurrency = parseInt(process.env.BENCH_CONCURRENCY || '16', 10);
const blockSize = parseInt(process.env.BENCH_BLOCK_SIZE || '8388608', 10);

function container() {
  const cs = process.env.BENCH_CONNECTION_STRING;
  const name = process.env.BENCH_CONTAINER;
  if (!cs || !name)
    throw new Error('BENCH_CONNECTION_STRING and BENCH_CONTAINER are needed');
  return BlobServiceClient.fromConnectionString(cs).getContainerClient(name);
}

/* Runs fn over items with at most `limit` calls in flight. */
async function pool(items, limit, fn) {
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  }
  const workers = [];
  for (let i = 0; i < Math.min(limit, items.length); i++)
    workers.push(worker());
  await Promise.all(workers);
}

function walk(dir, rel, out) {
  const entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
  for (const e of entries) {
    const r = rel ? rel + '/' + e.name : e.name;
    if (e.isDirectory())
      walk(dir, r, out);
    else if (e.isFile())
      out.push(r);
  }
  return out;
}

async function uploadFile(cc, src, blob) {
  await cc.getBlockBlobClient(blob).uploadFile(src, {
    blockSize: blockSize,
    maxSingleShotSize: blockSize,
    concurrency: concurrency,
  });
}

async function main() {
  const [op, a, b] = process.argv.slice(2);
  const cc = container();

  switch (op) {
  case 'upload-file':
    await uploadFile(cc, a, b);
    break;
  case 'download-file':
    /* One GET streamed to the file: the SDK's downloadToFile has no
     * concurrency option. */
    await cc.getBlobClient(a).downloadToFile(b);
    break;
  case 'upload-dir': {
    const files = walk(a, '', []);
    await pool(files, concurrency,
      (rel) => uploadFile(cc, path.join(a, rel), b + '/' + rel));
    break;
  }
  case 'download-dir': {
    const prefix = a + '/';
    const names = [];
    for await (const item of cc.listBlobsFlat({ prefix: prefix }))
      names.push(item.name);
    const dirs = new Set(names.map(
      (n) => path.dirname(path.join(b, n.slice(prefix.length)))));
    for (const d of dirs)
      fs.mkdirSync(d, { recursive: true });
    await pool(names, concurrency, (n) => cc.getBlobClient(n)
      .downloadToFile(path.join(b, n.slice(prefix.length))));
    break;
  }
  default:
    throw new Error('unknown operation: ' + op);
  }
}

main().catch((e) => {
  const msg = e && e.message ? e.message : String(e);
  process.stderr.write('js_client: ' + msg + '\n');
  process.exit(1);
});
