"""Runs the moto server, with one fix that local mode needs.

moto's Step Functions interpreter parses the state machine definition in each
execution's own thread, and its ASL preprocessor keeps a scope stack in a class
attribute shared by every parse (`Preprocessor._query_language_per_scope`). Two
executions starting together can corrupt it; the losing thread dies with an
IndexError before recording any history, and its execution stays RUNNING forever.
AWS has no such failure, so the emulator should not either: parses are serialised
here. Everything else is moto's own server, with its usual arguments.
"""

import sys
import threading

from moto.server import main
from moto.stepfunctions.parser.asl.parse import asl_parser

_parse_lock = threading.Lock()
_parse = asl_parser.AmazonStateLanguageParser.parse


def _serialised_parse(definition):
    with _parse_lock:
        return _parse(definition)


asl_parser.AmazonStateLanguageParser.parse = staticmethod(_serialised_parse)

if __name__ == "__main__":
    sys.exit(main())
