"""IAM for the local stack: every AWS call a function makes is checked against its template.yaml
policy, as IAM checks it in AWS, and refused the way AWS refuses it.

moto's own IAM access control checks actions but not resources or conditions (its source says
so), so a policy scoped to one table, bucket prefix or partition key (dynamodb:LeadingKeys) could
not be tested with it. This module evaluates the policies the local stack resolved from
template.yaml (infra/local/src/iam.rs writes them; KEIRYOKU_IAM_POLICIES names the file, which is
re-read when it changes):

- the caller is the access key id of the request's SigV4 signature (header or presigned query);
  each function signs with its own, anything else (the local stack, the tests, the operator
  command) is unrestricted;
- the action and resource ARN come from the request: DynamoDB (each item of a transaction or
  batch on its own, the partition key values as dynamodb:LeadingKeys), S3 (object versions,
  multipart uploads, listings), SES v2 SendEmail (identity and configuration set), SSM
  GetParameter;
- an explicit Deny wins, then an Allow whose Action, Resource and Condition all match
  (StringLike, StringEquals, Bool, with ForAllValues / ForAnyValue), else the call is refused;
- as in S3, a GET or HEAD of a missing key answers 403 instead of 404 when the caller may not
  list the bucket.

Not modelled: resource-based policies (bucket policies, the aws/ssm key policy, which lets
every principal of the account decrypt through SSM), session policies, permission boundaries,
and the DynamoDB stream reads of event source mappings (the local stack polls them itself).
"""

import collections
import io
import json
import os
import re
import sys
from urllib.parse import parse_qs, unquote

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_KEY_EQUALS = re.compile(r"^\(?\s*([#\w.]+)\s*=\s*(:\w+)\s*\)?$")


class Denied(Exception):
    def __init__(self, function, action, resource, reason):
        super().__init__(f"{function} may not {action} on {resource}: {reason}")
        self.function, self.action, self.resource, self.reason = function, action, resource, reason


def _wildcard(pattern, ignore_case=False):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


class Policies:
    """The policies document, re-read whenever its file changes."""

    def __init__(self, path):
        self.path = path
        self.stamp = None
        self.document = {"principals": {}, "tables": {}}

    def current(self):
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return self.document
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self.stamp:
            with open(self.path, encoding="utf-8") as f:
                self.document = json.load(f)
            self.stamp = stamp
        return self.document


def caller(environ):
    """(access key id, service) of the request's signature, or (None, None)."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1), match.group(3)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    credential = query.get("X-Amz-Credential", [""])[0]
    parts = credential.split("/")
    if len(parts) == 5:
        return parts[0], parts[3]
    return None, None


def _string(typed):
    """The value of a DynamoDB attribute value ({"S": "APP#1"} → "APP#1")."""
    if isinstance(typed, dict) and typed:
        value = next(iter(typed.values()))
        return value if isinstance(value, str) else json.dumps(value)
    return None


class Request:
    """What one call asks for: (action, resource ARN, condition context) triples."""

    def __init__(self, document, environ, body):
        self.account = document.get("account", "123456789012")
        self.region = document.get("region", "ap-northeast-1")
        self.tables = document.get("tables", {})
        self.environ = environ
        self.body = body

    def _json(self):
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {}

    # ------------------------------------------------------------------ DynamoDB

    def _table_arn(self, table, index=None):
        arn = f"arn:aws:dynamodb:{self.region}:{self.account}:table/{table}"
        return f"{arn}/index/{index}" if index else arn

    def _hash_key(self, table, index=None):
        spec = self.tables.get(table, {})
        return spec.get("indexes", {}).get(index) if index else spec.get("hash_key")

    def _leading(self, table, key_or_item):
        attribute = self._hash_key(table)
        value = _string((key_or_item or {}).get(attribute)) if attribute else None
        if value is None:
            # Real DynamoDB always knows the partition key of an item call: refuse rather than
            # let an empty dynamodb:LeadingKeys pass ForAllValues vacuously.
            raise ValueError(f"no partition key of {table} in the request")
        return [value]

    def _query_leading(self, table, index, call):
        attribute = self._hash_key(table, index)
        names = call.get("ExpressionAttributeNames") or {}
        values = call.get("ExpressionAttributeValues") or {}
        keys = []
        for part in re.split(r"\s+AND\s+", call.get("KeyConditionExpression", ""), flags=re.IGNORECASE):
            match = _KEY_EQUALS.match(part.strip())
            if match and names.get(match.group(1), match.group(1)) == attribute:
                value = _string(values.get(match.group(2)))
                if value is not None:
                    keys.append(value)
        if not keys:
            raise ValueError(f"no equality on the partition key of {table} in the key condition")
        return keys

    def dynamodb(self):
        operation = self.environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
        call = self._json()
        table = call.get("TableName")
        leading = "dynamodb:LeadingKeys"
        if operation in ("GetItem", "DeleteItem", "UpdateItem"):
            return [(f"dynamodb:{operation}", self._table_arn(table), {leading: self._leading(table, call.get("Key"))})]
        if operation == "PutItem":
            return [("dynamodb:PutItem", self._table_arn(table), {leading: self._leading(table, call.get("Item"))})]
        if operation == "Query":
            index = call.get("IndexName")
            return [("dynamodb:Query", self._table_arn(table, index), {leading: self._query_leading(table, index, call)})]
        if operation == "Scan":
            return [("dynamodb:Scan", self._table_arn(table, call.get("IndexName")), {leading: []})]
        if operation == "TransactWriteItems":
            names = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
            out = []
            for entry in call.get("TransactItems", []):
                for kind, op in entry.items():
                    item = op.get("Item") if kind == "Put" else op.get("Key")
                    out.append((f"dynamodb:{names.get(kind, kind)}", self._table_arn(op.get("TableName")), {leading: self._leading(op.get("TableName"), item)}))
            return out
        if operation == "TransactGetItems":
            return [
                ("dynamodb:GetItem", self._table_arn(e["Get"]["TableName"]), {leading: self._leading(e["Get"]["TableName"], e["Get"].get("Key"))})
                for e in call.get("TransactItems", []) if "Get" in e
            ]
        if operation == "BatchGetItem":
            return [
                ("dynamodb:BatchGetItem", self._table_arn(t), {leading: self._leading(t, k)})
                for t, spec in call.get("RequestItems", {}).items() for k in spec.get("Keys", [])
            ]
        if operation == "BatchWriteItem":
            out = []
            for t, requests in call.get("RequestItems", {}).items():
                for r in requests:
                    item = r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key")
                    out.append(("dynamodb:BatchWriteItem", self._table_arn(t), {leading: self._leading(t, item)}))
            return out
        resource = self._table_arn(table) if table else "*"
        return [(f"dynamodb:{operation}", resource, {})]

    # ------------------------------------------------------------------ S3

    def s3(self):
        path = self.environ.get("PATH_INFO", "/").lstrip("/")
        bucket, _, key = path.partition("/")
        query = parse_qs(self.environ.get("QUERY_STRING", ""), keep_blank_values=True)
        method = self.environ.get("REQUEST_METHOD", "GET")
        if not key:
            arn = f"arn:aws:s3:::{bucket}"
            if method in ("GET", "HEAD"):
                for flag, action in (("versions", "ListBucketVersions"), ("versioning", "GetBucketVersioning"),
                                     ("location", "GetBucketLocation"), ("uploads", "ListBucketMultipartUploads"),
                                     ("policy", "GetBucketPolicy"), ("lifecycle", "GetLifecycleConfiguration")):
                    if flag in query:
                        return [(f"s3:{action}", arn, {})]
                return [("s3:ListBucket", arn, {})]
            if method == "POST" and "delete" in query:
                return [("s3:DeleteObject", f"{arn}/*", {})]
            if method == "DELETE":
                return [("s3:DeleteBucket", arn, {})]
            return [("s3:CreateBucket", arn, {})]
        arn = f"arn:aws:s3:::{bucket}/{key}"
        versioned = "versionId" in query
        # Object subresources are actions of their own (a retention or an ACL is not a
        # PutObject): each is named, so a policy granting PutObject does not grant them.
        for flag, get_action, put_action in (
            ("acl", "GetObjectVersionAcl" if versioned else "GetObjectAcl",
             "PutObjectVersionAcl" if versioned else "PutObjectAcl"),
            ("retention", "GetObjectRetention", "PutObjectRetention"),
            ("legal-hold", "GetObjectLegalHold", "PutObjectLegalHold"),
            ("attributes", "GetObjectVersionAttributes" if versioned else "GetObjectAttributes", None),
            ("torrent", "GetObjectTorrent", None),
        ):
            if flag in query:
                action = get_action if method in ("GET", "HEAD") else put_action
                return [(f"s3:{action or 'Unmodelled' + flag}", arn, {})]
        if method == "POST" and "restore" in query:
            return [("s3:RestoreObject", arn, {})]
        if method == "POST" and "select" in query:
            return [("s3:GetObject", arn, {})]
        if method in ("GET", "HEAD"):
            if "uploadId" in query:
                return [("s3:ListMultipartUploadParts", arn, {})]
            if "tagging" in query:
                return [("s3:GetObjectVersionTagging" if versioned else "s3:GetObjectTagging", arn, {})]
            return [("s3:GetObjectVersion" if versioned else "s3:GetObject", arn, {})]
        if method == "DELETE":
            if "uploadId" in query:
                return [("s3:AbortMultipartUpload", arn, {})]
            if "tagging" in query:
                return [("s3:DeleteObjectVersionTagging" if versioned else "s3:DeleteObjectTagging", arn, {})]
            return [("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", arn, {})]
        if "tagging" in query:
            return [("s3:PutObjectVersionTagging" if versioned else "s3:PutObjectTagging", arn, {})]
        triples = [("s3:PutObject", arn, {})]
        # A copy (CopyObject, UploadPartCopy) also reads its source, which needs GetObject (of
        # the version named) there.
        source = self.environ.get("HTTP_X_AMZ_COPY_SOURCE")
        if source:
            source_path, _, source_query = source.partition("?")
            source_version = "versionId" in parse_qs(source_query)
            triples.append(("s3:GetObjectVersion" if source_version else "s3:GetObject",
                            f"arn:aws:s3:::{unquote(source_path).lstrip('/')}", {}))
        return triples

    # ------------------------------------------------------------------ SES v2, SSM

    def ses(self):
        path = self.environ.get("PATH_INFO", "")
        method = self.environ.get("REQUEST_METHOD", "GET")
        base = f"arn:aws:ses:{self.region}:{self.account}"
        if method == "POST" and path.rstrip("/").endswith("/outbound-emails"):
            call = self._json()
            sender = call.get("FromEmailAddress", "")
            domain = sender.rsplit("@", 1)[-1].strip(" >")
            out = [("ses:SendEmail", f"{base}:identity/{domain}", {})]
            if call.get("ConfigurationSetName"):
                out.append(("ses:SendEmail", f"{base}:configuration-set/{call['ConfigurationSetName']}", {}))
            return out
        return [(f"ses:{method}{path}", "*", {})]

    def ssm(self):
        operation = self.environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
        call = self._json()
        name = call.get("Name", "")
        resource = f"arn:aws:ssm:{self.region}:{self.account}:parameter{name if name.startswith('/') else '/' + name}"
        return [(f"ssm:{operation}", resource, {})]

    def triples(self, service):
        handler = {"dynamodb": self.dynamodb, "s3": self.s3, "ses": self.ses, "email": self.ses, "ssm": self.ssm}.get(service)
        if handler is None:
            return [(f"{service}:*", "*", {})]
        return handler()


def _condition_holds(condition, context):
    for operator, keys in (condition or {}).items():
        qualifier, _, base = operator.rpartition(":")
        for key, expected in keys.items():
            if base == "StringLike":
                patterns = [_wildcard(e) for e in expected]
                matches = lambda value: any(p.fullmatch(value) for p in patterns)  # noqa: E731
            elif base == "StringEquals":
                matches = lambda value: value in expected  # noqa: E731
            elif base == "Bool":
                matches = lambda value: str(value).lower() in [e.lower() for e in expected]  # noqa: E731
            else:
                raise ValueError(f"condition operator {operator} is not modelled")
            actual = context.get(key)
            values = actual if isinstance(actual, list) else ([] if actual is None else [actual])
            if qualifier == "ForAllValues":
                holds = all(matches(v) for v in values)
            elif qualifier == "ForAnyValue":
                holds = any(matches(v) for v in values)
            else:
                holds = bool(values) and all(matches(v) for v in values)
            if not holds:
                return False
    return True


def allowed(statements, action, resource, context):
    """IAM's evaluation for one action on one resource: explicit Deny, then Allow, else no."""
    permitted = False
    for statement in statements:
        actions = statement.get("Action", [])
        if not any(_wildcard(a, ignore_case=True).fullmatch(action) for a in actions):
            continue
        if not any(_wildcard(r).fullmatch(resource) for r in statement.get("Resource", [])):
            continue
        if not _condition_holds(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        permitted = True
    return permitted


def _refusal(service, denied, start_response, head):
    message = (
        f"User: arn:aws:sts::123456789012:assumed-role/{denied.function}/local is not authorized to "
        f"perform: {denied.action} on resource: {denied.resource} ({denied.reason})"
    )
    print(f"IAM refused: {message}", file=sys.stderr, flush=True)
    if service == "s3":
        body = b"" if head else (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
            f"<Message>Access Denied</Message><Resource>{denied.resource}</Resource></Error>"
        ).encode()
        start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]
    if service in ("ses", "email"):
        body = json.dumps({"message": message}).encode()
        start_response("403 Forbidden", [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException"), ("Content-Length", str(len(body)))])
        return [body]
    kind = "com.amazon.coral.service#AccessDeniedException" if service == "dynamodb" else "AccessDeniedException"
    body = json.dumps({"__type": kind, "message": message, "Message": message}).encode()
    content_type = "application/x-amz-json-1.0" if service == "dynamodb" else "application/x-amz-json-1.1"
    start_response("400 Bad Request", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


# The calls each function made, by operation ({"applications": {"GetItem": 12, …}}): what the
# load run divides by its requests to say how many service round trips a request costs.
calls = collections.defaultdict(collections.Counter)


def operation(environ, service):
    """The API operation of a call: DynamoDB's target header, else the service and method."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rpartition(".")[2]
    return f"{service}:{environ.get('REQUEST_METHOD', '?')}"


def enforce(app, path):
    """Wraps the emulator's WSGI app with the policies of `path`."""
    policies = Policies(path)

    def checked(environ, start_response):
        key, service = caller(environ)
        document = policies.current()
        principal = document.get("principals", {}).get(key) if key else None
        if principal is None:
            return app(environ, start_response)
        calls[principal.get("function", key)][operation(environ, service)] += 1
        body = b""
        if service != "s3":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
        statements = principal.get("statements", [])
        function = principal.get("function", key)
        request = Request(document, environ, body)
        head = environ.get("REQUEST_METHOD") == "HEAD"
        try:
            for action, resource, context in request.triples(service):
                if not allowed(statements, action, resource, context):
                    raise Denied(function, action, resource, "no statement of its template.yaml policy allows it")
        except Denied as denied:
            return _refusal(service, denied, start_response, head)
        except ValueError as error:
            return _refusal(service, Denied(function, service, "*", str(error)), start_response, head)
        if service != "s3" or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return app(environ, start_response)
        # S3 hides whether a key exists from a caller that may not list the bucket: 403, not 404.
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = list(app(environ, capture))
        bucket = environ.get("PATH_INFO", "/").lstrip("/").partition("/")[0]
        if captured.get("status", "").startswith("404") and not allowed(statements, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {}):
            return _refusal(service, Denied(function, "s3:ListBucket", f"arn:aws:s3:::{bucket}", "a missing key without ListBucket is AccessDenied"), start_response, head)
        start_response(captured.get("status", "500 Internal Server Error"), captured.get("headers", []))
        return chunks

    return checked
