// The runtime benchmark's peer: what a user would otherwise deploy — a Node.js function on
// Google's functions-framework — doing the same decode and validation as example-service:
// parse the wrapped Pub/Sub push envelope (the framework's JSON body parser), check the
// CloudEvents type attribute, base64-decode the data, JSON-parse it and validate `name` as an
// environment name (same regex and length limit as events::names::EnvName). 204 or 400.
'use strict';

const functions = require('@google-cloud/functions-framework');

const PING = 'dev.groundskeeper.example.ping.v1';
const ENV_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const MAX_NAME = 30;

function reject(res, reason) {
  res.status(400).send(reason);
}

functions.http('ping', (req, res) => {
  const message = req.body && req.body.message;
  if (!message || typeof message !== 'object') {
    return reject(res, 'not a Pub/Sub push body');
  }
  const attributes = message.attributes || {};
  if (attributes['ce-type'] !== PING) {
    return reject(res, `unexpected event type ${attributes['ce-type']}`);
  }
  if (!attributes['ce-id'] || !attributes['ce-source']) {
    return reject(res, 'missing ce-id or ce-source');
  }
  let data;
  try {
    data = JSON.parse(Buffer.from(message.data || '', 'base64').toString('utf8'));
  } catch (e) {
    return reject(res, `data is not JSON: ${e.message}`);
  }
  const name = data && data.name;
  if (typeof name !== 'string' || name.length > MAX_NAME || !ENV_NAME.test(name)) {
    return reject(res, 'name is not a valid environment name');
  }
  res.status(204).end();
});
