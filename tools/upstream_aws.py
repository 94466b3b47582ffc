#!/usr/bin/env python3
"""Answers the AWS calls terraform-provider-aws makes while it plans (`make upstream`).

Planning is offline except where the provider asks AWS itself: a changed state machine
definition is sent to Step Functions' ValidateStateMachineDefinition (its CustomizeDiff,
internal/service/sfn/state_machine.go, stateMachineDefinitionValidate). With no AWS here,
that call is answered by two ASL implementations of other authors: asl-validator (the
schema and path checks `make test` already uses) and the ASL parser and static analyser
the emulator carries (moto's stepfunctions parser). A definition either refuses is FAIL,
with their messages as the diagnostics, as AWS answers. Any other call to these two
endpoints is answered with an error naming it, so it shows in the report instead of passing
unseen (calls to any other service cannot leave the machine: tools/upstream_check.py runs
the provider behind a proxy address where nothing listens).

A planned change of an existing DynamoDB table reads the table (DescribeTable, in the
table's CustomizeDiff validateTableAttributes) to learn of indexes a separate resource added.
It is answered ResourceNotFoundException, the provider's strictest path: every indexed
attribute must then be defined by the table's own configuration.

Every call is appended to the log file as one JSON line (target, verdict); the check's
report lists them.

Usage: upstream_aws.py --port-file F --log F --oracles tools/oracles
"""

import argparse
import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser


def asl_validator(oracles, definition):
    done = subprocess.run(
        [str(Path(oracles) / "node_modules/.bin/asl-validator"), "--json-definition", definition],
        capture_output=True,
        text=True,
    )
    if done.returncode == 0:
        return []
    return [line.strip()[:300] for line in (done.stdout + done.stderr).splitlines() if line.strip()] or ["refused"]


def moto_analyser(definition):
    try:
        StaticAnalyser().analyse(definition)
    except Exception as error:  # the analyser raises its parse and rule errors alike
        return [f"{type(error).__name__}: {error}"[:300]]
    return []


def handler_for(oracles, log):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            target = self.headers.get("X-Amz-Target", "")
            if target == "AWSStepFunctions.ValidateStateMachineDefinition":
                request = json.loads(body)
                refusals = [f"asl-validator: {m}" for m in asl_validator(oracles, request["definition"])]
                refusals += [f"moto's ASL analyser: {m}" for m in moto_analyser(request["definition"])]
                answer = {
                    "result": "FAIL" if refusals else "OK",
                    "diagnostics": [
                        {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": m}
                        for m in refusals
                    ],
                    "truncated": False,
                }
                self.reply(200, answer)
                entry = {"target": target, "type": request.get("type"), "result": answer["result"],
                         "diagnostics": refusals}
            elif target == "DynamoDB_20120810.DescribeTable":
                table = json.loads(body).get("TableName")
                self.reply(400, {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                                 "message": f"Requested resource not found: Table: {table} not found"})
                entry = {"target": target, "table": table, "result": "ResourceNotFoundException"}
            else:
                self.reply(400, {"__type": "UnknownOperationException",
                                 "message": f"make upstream answers no {target or self.path}"})
                entry = {"target": target or self.path, "result": "not answered"}
            with open(log, "a") as out:
                out.write(json.dumps(entry) + "\n")

        def reply(self, status, document):
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--oracles", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(args.oracles, args.log))
    Path(args.port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
