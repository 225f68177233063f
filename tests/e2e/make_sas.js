#!/usr/bin/env node
// Mint SAS tokens for the end-to-end tests with the official Azure SDK
// (not with cairn), signed with the well-known Azurite account key.
//
//   node make_sas.js account PERMISSIONS SECONDS
//   node make_sas.js container CONTAINER PERMISSIONS SECONDS
//
// SECONDS may be negative for a token that expired already. Prints the
// query string, without '?'.
'use strict';

const path = require('path');
const sdk = require(path.join(__dirname, '..', 'harness', 'node_modules',
                              '@azure', 'storage-blob'));

const account = 'devstoreaccount1';
const key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq' +
            '/K1SZFPTOtr/KBHBeksoGMGw==';
const credential = new sdk.StorageSharedKeyCredential(account, key);
const version = '2023-11-03';

function window(seconds) {
  const now = Date.now();
  return {
    startsOn: new Date(now - 15 * 60 * 1000 + Math.min(0, seconds) * 1000 * 2),
    expiresOn: new Date(now + seconds * 1000),
  };
}

const [kind, ...args] = process.argv.slice(2);
let sas;
if (kind === 'account' && args.length === 2) {
  const w = window(Number(args[1]));
  sas = sdk.generateAccountSASQueryParameters({
    ...w, version,
    permissions: sdk.AccountSASPermissions.parse(args[0]),
    services: 'b',
    resourceTypes: 'sco',
  }, credential);
} else if (kind === 'container' && args.length === 3) {
  const w = window(Number(args[2]));
  sas = sdk.generateBlobSASQueryParameters({
    ...w, version,
    containerName: args[0],
    permissions: sdk.ContainerSASPermissions.parse(args[1]),
  }, credential);
} else {
  process.stderr.write('usage: make_sas.js account PERMS SECONDS | ' +
                       'container NAME PERMS SECONDS\n');
  process.exit(2);
}
process.stdout.write(sas.toString() + '\n');
