// Validates bodies against a draft-04 JSON schema with Ajv (ajv-draft-04): a validator of
// another author than the one the functions use, so the two can be compared.
//
//   echo '{"schema": {...}, "bodies": ["{...}", "not json"]}' | node schema.mjs
//
// Prints one verdict per body: {"valid": bool, "errors": [...]}; a body that is not JSON
// is invalid.
import { readFileSync } from 'node:fs';
import Ajv from 'ajv-draft-04';

const request = JSON.parse(readFileSync(0, 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(request.schema);
const verdicts = request.bodies.map((text) => {
  let body;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { valid: false, errors: [`not JSON: ${error.message}`] };
  }
  const valid = validate(body);
  return { valid, errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`) };
});
process.stdout.write(JSON.stringify(verdicts));
