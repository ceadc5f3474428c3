"""moto's server for the local stack, with every AWS call made atomic.

moto_server answers requests on several threads at once, and moto applies a DynamoDB
transaction by snapshotting and restoring its tables, which is not safe across threads: two
concurrent transactions can undo each other's committed writes. Real DynamoDB serialises
transactions, so we do the same here: requests are accepted concurrently, but moto handles
one at a time. Usage: serve.py HOST PORT (KEIRYOKU_IAM_POLICIES: the functions' policies, which
iam.py enforces).

Because calls are serialised, a transaction can also be applied the way DynamoDB applies one:
check every condition first, then write, instead of moto's deep copy of every table it touches
on every transaction (which costs time proportional to the table, and dominated load runs).
The items written are still backed up one by one, so a write that fails part-way is undone.
"""

import copy
import os
import sys
import threading

import iam

from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def transact_write_items(self, transact_items):
    """All conditions checked before any write; per-item undo if a write fails part-way."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    ops, seen, errors = [], set(), []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        marker = (op["TableName"], str(dict(sorted(key.items()))))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        current = self.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        failed = None
        if condition is not None:
            check = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not check.expr(current):
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                failed = ("ConditionalCheckFailed", str(ConditionalCheckFailed().message), old)
        errors.append(failed or (None, None, None))
        ops.append((op_type, op, table, key, copy.deepcopy(current)))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    shards = {id(t): (t, len(t.stream_shard.items)) for _, _, t, _, _ in ops if t.stream_shard is not None}
    done = []
    try:
        for op_type, op, table, key, before in ops:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key)
            elif op_type == "Update":
                self.update_item(
                    op["TableName"], key, update_expression=op["UpdateExpression"],
                    expression_attribute_names=names, expression_attribute_values=values,
                )
            done.append((table, key, before))
    except Exception:
        # Undo what was written, stream records included (DynamoDB emits none for a failed
        # transaction).
        for table, key, before in reversed(done):
            hash_value = DynamoType(key[table.hash_key_attr])
            if table.range_key_attr is not None:
                range_value = DynamoType(key[table.range_key_attr])
                if before is None:
                    table.items[hash_value].pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = before
            elif before is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = before
        for table, length in shards.values():
            del table.stream_shard.items[length:]
        raise


def main() -> None:
    DynamoDBBackend.transact_write_items = transact_write_items
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    # Each function's template.yaml policy, enforced (infra/moto/iam.py).
    policies = os.environ.get("KEIRYOKU_IAM_POLICIES")
    if policies:
        app = iam.enforce(app, policies)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Produce the whole body inside the lock: the call is over when the lock is released.
            return list(app(environ, start_response))

    run_simple(host, port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
