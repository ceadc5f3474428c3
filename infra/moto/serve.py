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

Stream records are kept by moto as DynamoDB JSON already; GetRecords, and the reads of items
(Query, Scan, GetItem and the batch and transaction gets), answer with json.dumps instead of moto's
generic serializer, which walks the service model value by value: it took three quarters of
moto's time while the stream readers followed a bulk import, and most of a bulk extract's.

A Query is answered from the items it can match: moto lists (and sorts) every item of the table
for every Query, even one of a single partition, so reading a month of the register cost time
proportional to the whole table. Here a Query of the table reads its partition only, and a Query
of an index reads the items unsorted (moto sorts what matches afterwards either way). Nor does a
Query deep-copy what it found: its answer is written out and never changes the items.

An item's size is checked once, when it is made: moto sums the size of every attribute again for
each attribute it sets (quadratic in the attributes), which was most of the cost of a write.
"""

import copy
import datetime
import json
import os
import sys
import threading
import types

import iam

from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    ItemSizeTooLarge,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.models import table as table_module
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
import waitress


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


def epoch(value):
    """Timestamps as the JSON protocols write them: seconds since the epoch."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    raise TypeError(f"not JSON: {type(value).__name__}")


def get_records(self):
    """GetRecords of moto's stream, its records written out as they are kept."""
    limit = self._get_param("Limit")
    result = self.backend.get_records(self._get_param("ShardIterator"), 1000 if limit is None else limit)
    return json.dumps(result, default=epoch)


moto_execute_result = DynamoResult.execute_result
PLAIN_JSON_READS = {"Query", "Scan", "GetItem", "BatchGetItem", "TransactGetItems"}


def execute_result(self, context):
    """The reads of items written out with json.dumps (their results are DynamoDB JSON)."""
    if context.operation_model.name in PLAIN_JSON_READS:
        try:
            body = json.dumps(self.result, default=epoch)
        except (TypeError, ValueError):
            return moto_execute_result(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
    return moto_execute_result(self, context)


def item_init(self, hash_key, range_key, attrs):
    """moto's Item, its 400 KB limit checked on the whole item at once."""
    self.hash_key = hash_key
    self.range_key = range_key
    typed = {key: DynamoType(value) for key, value in attrs.items()}
    # moto's limit (between DynamoDB's 400 KB and the 409–410 KB it measured).
    if sum(bytesize(key) + value.size() for key, value in typed.items()) > 405000:
        raise ItemSizeTooLarge
    # LimitedSizeDict's constructor fills it without its per-attribute check.
    self.attrs = LimitedSizeDict(typed)


moto_query = Table.query
# What Query's copy of its results becomes: the projections it applies make new items, and the
# answer is only read.
SHALLOW_COPY = types.SimpleNamespace(deepcopy=list)


def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
          scan_index_forward, projection_expressions, index_name=None, *args, **kwargs):
    """moto's Query over the items it can match (calls are serialised, so the table is ours)."""
    if index_name is None and hash_key is not None:
        partition = self.items.get(hash_key)
        if partition is None:
            candidates = []
        elif self.range_key_attr:
            candidates = list(partition.values())
        else:
            candidates = [partition]
    elif self.range_key_attr:
        candidates = [item for partition in self.items.values() for item in partition.values()]
    else:
        candidates = list(self.items.values())
    self.all_items = lambda: candidates
    table_module.copy = SHALLOW_COPY
    try:
        return moto_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                          scan_index_forward, projection_expressions, index_name, *args, **kwargs)
    finally:
        del self.all_items
        table_module.copy = copy


def main() -> None:
    DynamoDBBackend.transact_write_items = transact_write_items
    DynamoDBStreamsHandler.get_records = get_records
    Table.query = query
    DynamoResult.execute_result = execute_result
    Item.__init__ = item_init
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    # Each function's template.yaml policy, enforced (infra/moto/iam.py).
    policies = os.environ.get("KEIRYOKU_IAM_POLICIES")
    if policies:
        app = iam.enforce(app, policies)
    lock = threading.Lock()

    def serialised(environ, start_response):
        if environ.get("PATH_INFO") == "/_keiryoku/calls":
            # The calls counted per function (iam.calls; not an AWS API, no bucket has this name).
            with lock:
                body = json.dumps(iam.calls).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with lock:
            # Produce the whole body inside the lock: the call is over when the lock is released.
            return list(app(environ, start_response))

    # waitress, not werkzeug's development server: that one ends every answer with
    # `Connection: close`, so each AWS call of ours paid a TCP connect and close that it does not
    # pay in AWS, where the SDK keeps its connections. It cost our functions about a third of
    # their CPU in a load run (make load: 3.39 -> 2.20 ms per request). Connections wait between
    # calls without holding a thread; the lock above still lets one call in at a time.
    waitress.serve(serialised, host=host, port=port, threads=8, connection_limit=1000,
                   asyncore_use_poll=True, ident=None, _quiet=True)


if __name__ == "__main__":
    main()
