// Runs a state machine definition with an ASL interpreter of another author
// (aws-local-stepfunctions), with each Task state answered by a scripted outcome instead of
// its Lambda function. The tests use it as an oracle of what Step Functions does with the
// definition: which task gets which payload, and how the execution ends.
//
//   echo '{"definition": {...}, "input": {...}, "tasks": {"SaveOrder": {"throw": {"name": "X"}}}}' | node asl.mjs
//
// A task not named in "tasks" answers {"Payload": {}}; {"result": R} answers R (give the
// Payload yourself, as lambda:invoke does); {"throw": {"name": N, "message": M}} fails
// with Error N and Cause M, or with no Cause at all when "message" is left out. A list of
// outcomes answers a state's calls in turn (its last answers every call after).
// Wait states take no time. Prints {"status", "error", "cause", "output", "calls": [{state,
// input}]}.
import { readFileSync } from 'node:fs';

// The interpreter asks for Node 22, whose one addition it uses is Promise.withResolvers;
// on an older Node it is supplied here, as the standard defines it.
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new this((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
const { StateMachine } = await import('aws-local-stepfunctions');

const request = JSON.parse(readFileSync(0, 'utf8'));
const states = request.definition.States;
const calls = [];

/** An error as a Task's Lambda would raise it; without a message, the error has no Cause. */
function raised(spec) {
  const error = new Error();
  error.name = spec.name;
  if (spec.message === undefined) {
    // The interpreter takes the Cause from `message`: undefined leaves it out.
    Object.defineProperty(error, 'message', { value: undefined });
  } else {
    error.message = spec.message;
  }
  return error;
}

const taskResourceLocalHandlers = {};
const waitTimeOverrides = {};
const retryIntervalOverrides = {};
for (const [name, state] of Object.entries(states)) {
  if (state.Type === 'Wait') waitTimeOverrides[name] = 0;
  if (state.Retry) retryIntervalOverrides[name] = 0;
  if (state.Type !== 'Task') continue;
  let made = 0;
  taskResourceLocalHandlers[name] = async (input) => {
    calls.push({ state: name, input });
    const scripted = request.tasks?.[name] ?? { result: { Payload: {} } };
    const outcome = Array.isArray(scripted)
      ? scripted[Math.min(made, scripted.length - 1)]
      : scripted;
    made += 1;
    if (outcome.throw) throw raised(outcome.throw);
    return outcome.result;
  };
}

const machine = new StateMachine(request.definition, {
  validationOptions: { checkArn: false },
});
const execution = machine.run(request.input, {
  overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
});
let answer;
try {
  const output = await execution.result;
  answer = { status: 'SUCCEEDED', output };
} catch (error) {
  // The interpreter wraps what ended the execution in an ExecutionError.
  const reason = error.cause instanceof Error ? error.cause : error;
  answer = { status: 'FAILED', error: reason.name, cause: reason.message ?? null };
}
process.stdout.write(JSON.stringify({ ...answer, calls }));
