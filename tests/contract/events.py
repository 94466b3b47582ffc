#!/usr/bin/env python3
"""Waits for one order's events on a stack's events tap queue and checks them.

    python3 tests/contract/events.py TAP_QUEUE_URL ORDER_ID FINAL_VERSION [--timeout S]

TAP_QUEUE_URL is the stack's `eventsTapQueueUrl` (local mode: `events_tap_url` of its
ready report, with AWS_ENDPOINT_URL at the emulator). Reads the queue with boto3 until the
order's events reach FINAL_VERSION, deleting only that order's messages (the tap may have
other readers), then checks they are versions 1..FINAL_VERSION with one status each,
RECEIVED first, the source and detail-type of the contract, and no internals. Prints one
line per version; exits 1 if anything does not hold.
"""

import argparse
import json
import sys
import time

SOURCE = "serverless-orders.orders"
DETAIL_TYPE = "Order Status Changed"
DETAIL_FIELDS = {"order_id", "user_id", "restaurant_id", "status", "version", "at"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queue_url")
    parser.add_argument("order_id")
    parser.add_argument("final_version", type=int)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    try:
        import boto3
    except ImportError:
        print("events: FAIL: boto3 is needed to read the tap (`make venv` installs it)")
        return 1
    region = args.queue_url.split(".")[1] if ".amazonaws.com" in args.queue_url else None
    sqs = boto3.client("sqs", region_name=region) if region else boto3.client("sqs")
    statuses = {}
    problems = []
    deadline = time.monotonic() + args.timeout
    while max(statuses, default=0) < args.final_version and time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=args.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2
        )
        for message in answer.get("Messages", []):
            event = json.loads(message["Body"])
            detail = event.get("detail", {})
            if detail.get("order_id") != args.order_id:
                continue  # another order's: left for the tap's other readers
            if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
                problems.append(f"source/detail-type {event.get('source')}/{event.get('detail-type')}")
            if set(detail) != DETAIL_FIELDS:
                problems.append(f"detail fields {sorted(detail)}")
            if "arn:" in json.dumps(detail):
                problems.append("an ARN in the detail")
            version, status = detail.get("version"), detail.get("status")
            if statuses.setdefault(version, status) != status:
                problems.append(f"version {version} came as {statuses[version]} and {status}")
            sqs.delete_message(QueueUrl=args.queue_url, ReceiptHandle=message["ReceiptHandle"])
    for version in sorted(statuses):
        print(f"event {args.order_id} version {version}: {statuses[version]}")
    if sorted(statuses) != list(range(1, args.final_version + 1)):
        problems.append(f"versions {sorted(statuses)}, expected 1..{args.final_version}")
    elif statuses[1] != "RECEIVED":
        problems.append(f"version 1 is {statuses[1]}, not RECEIVED")
    for problem in problems:
        print(f"events: FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
