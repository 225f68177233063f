#!/usr/bin/env node
// List blob names under a prefix with the official Azure SDK, directory
// markers included, one per line, sorted.
//
//   AZURE_STORAGE_CONNECTION_STRING=... node list_blobs.js CONTAINER PREFIX
'use strict';

const path = require('path');
const { BlobServiceClient } = require(path.join(
  __dirname, '..', 'harness', 'node_modules', '@azure', 'storage-blob'));

async function main() {
  const [container, prefix] = process.argv.slice(2);
  if (!container || prefix === undefined) {
    process.stderr.write('usage: list_blobs.js CONTAINER PREFIX\n');
    process.exit(2);
  }
  const service = BlobServiceClient.fromConnectionString(
    process.env.AZURE_STORAGE_CONNECTION_STRING);
  const names = [];
  for await (const b of service.getContainerClient(container)
    .listBlobsFlat({ prefix })) {
    names.push(b.name);
  }
  names.sort();
  for (const n of names) process.stdout.write(n + '\n');
}

main().catch((e) => {
  process.stderr.write(`list_blobs: ${e.message}\n`);
  process.exit(1);
});
