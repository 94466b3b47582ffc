// Renders an API Gateway mapping template with a real Velocity engine (velocityjs), with
// the $input, $util and $context that API Gateway gives templates. The tests use it as an
// oracle of what API Gateway sends and answers; the templates themselves are the stack's.
//
//   echo '{"template": "...", "body": "...", "context": {"requestId": "..."},
//          "params": {"header": {"Origin": "..."}}}' | node vtl.mjs
//
// Prints {"output": the rendered text, "context": $context after rendering (so the
// responseOverride a template set is visible)}.
//
// The $input and $util functions follow API Gateway's reference
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html).
import { readFileSync } from 'node:fs';
import velocity from 'velocityjs';
import { JSONPath } from 'jsonpath-plus';

const request = JSON.parse(readFileSync(0, 'utf8'));

function select(path) {
  const document = JSON.parse(request.body);
  const found = JSONPath({ path, json: document, wrap: false });
  return found;
}

// Java's URLEncoder.encode(value, "UTF-8"): letters, digits and ".-*_" stay, a space
// becomes "+", every other byte of the UTF-8 encoding becomes %XX.
function urlEncode(value) {
  const bytes = Buffer.from(String(value), 'utf8');
  let out = '';
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9.\-*_]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// The method request's parameters; `$input.params(name)` searches the path, the query
// string, then the headers, in that order.
const params = { path: {}, querystring: {}, header: {}, ...(request.params || {}) };
const input = {
  body: request.body,
  json: (path) => JSON.stringify(select(path)),
  path: (path) => select(path),
  params: (name) =>
    name === undefined
      ? params
      : params.path[name] ?? params.querystring[name] ?? params.header[name] ?? '',
};

const util = {
  urlEncode,
  urlDecode: (value) => decodeURIComponent(String(value).replace(/\+/g, ' ')),
  escapeJavaScript: (value) => JSON.stringify(String(value)).slice(1, -1).replace(/'/g, "\\'"),
  parseJson: (value) => JSON.parse(value),
  base64Encode: (value) => Buffer.from(String(value), 'utf8').toString('base64'),
  base64Decode: (value) => Buffer.from(String(value), 'base64').toString('utf8'),
};

const context = { ...request.context, responseOverride: { header: {}, status: null } };
const output = velocity.render(request.template, { input, util, context });
process.stdout.write(JSON.stringify({ output, context }));
