#!/usr/bin/env node
// Independent reader for the end-to-end tests: lists and downloads blobs with
// the official Azure SDK (not with cairn), so that what cairn wrote can be
// checked by another implementation.
//
//   AZURE_STORAGE_CONNECTION_STRING=... \
//     node read_blobs.js CONTAINER PREFIX DIR
//
// Downloads every blob whose name starts with PREFIX (may be "") into
// DIR/<blob name> and prints one line per blob, sorted by name (byte order):
//
//   <sha256 hex>  <size>  <blob name>
//
// computed from the downloaded bytes. Directory markers (zero length,
// metadata hdi_isfolder=true in any case) are skipped. Any error: a message
// on stderr and exit status 1; usage errors exit 2.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { BlobServiceClient } = require(path.join(
  __dirname, '..', 'harness', 'node_modules', '@azure', 'storage-blob'));

function die(msg, code = 1) {
  process.stderr.write(`read_blobs: ${msg}\n`);
  process.exit(code);
}

function isFolderMarker(item) {
  if (item.properties.contentLength !== 0) return false;
  const md = item.metadata || {};
  return Object.keys(md).some((k) => k.toLowerCase() === 'hdi_isfolder' &&
    String(md[k]).toLowerCase() === 'true');
}

// Where blob NAME goes under DIR; refuses names that would leave DIR.
function localPath(dir, name) {
  const root = path.resolve(dir);
  const target = path.resolve(root, name);
  if (name === '' || name.endsWith('/') ||
      !target.startsWith(root + path.sep)) {
    throw new Error(`blob name '${name}' cannot be stored under ${root}`);
  }
  return target;
}

async function download(container, name, size, target) {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const resp = await container.getBlobClient(name).download(0);
  const hash = crypto.createHash('sha256');
  const out = fs.createWriteStream(target);
  let got = 0;
  await new Promise((resolve, reject) => {
    const body = resp.readableStreamBody;
    body.on('data', (chunk) => {
      hash.update(chunk);
      got += chunk.length;
    });
    body.on('error', reject);
    out.on('error', reject);
    out.on('finish', resolve);
    body.pipe(out);
  });
  if (got !== size) {
    throw new Error(`blob '${name}': listed as ${size} bytes, ` +
      `downloaded ${got}`);
  }
  return hash.digest('hex');
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 3) {
    die('usage: AZURE_STORAGE_CONNECTION_STRING=... ' +
      'node read_blobs.js CONTAINER PREFIX DIR', 2);
  }
  const [containerName, prefix, dir] = args;
  const conn = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!conn) die('AZURE_STORAGE_CONNECTION_STRING is not set', 2);

  let service;
  try {
    service = BlobServiceClient.fromConnectionString(conn);
  } catch (e) {
    // The SDK's message may quote the string; never print the key.
    die('AZURE_STORAGE_CONNECTION_STRING is not a valid connection string');
  }
  const container = service.getContainerClient(containerName);

  const items = [];
  const listOpts = { includeMetadata: true };
  if (prefix !== '') listOpts.prefix = prefix;
  for await (const item of container.listBlobsFlat(listOpts)) {
    if (!isFolderMarker(item)) items.push(item);
  }
  items.sort((a, b) => Buffer.compare(Buffer.from(a.name, 'utf8'),
    Buffer.from(b.name, 'utf8')));

  fs.mkdirSync(dir, { recursive: true });
  const lines = [];
  for (const item of items) {
    const size = item.properties.contentLength;
    const target = localPath(dir, item.name);
    const sha = await download(container, item.name, size, target);
    lines.push(`${sha}  ${size}  ${item.name}`);
  }
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => {
  const status = e.statusCode ? ` (HTTP ${e.statusCode}` +
    (e.code ? ` ${e.code}` : '') + ')' : '';
  const msg = String((e && e.message) || e).split('\n')[0]
    .replace(/(sig|AccountKey)=[^&;\s]*/gi, '$1=REDACTED');
  die(`${msg}${status}`);
});
