"""moto's server for the local stack, with every AWS call made atomic.

moto_server answers requests on several threads at once, and moto applies a DynamoDB
transaction by snapshotting and restoring its tables, which is not safe across threads: two
concurrent transactions can undo each other's committed writes. Real DynamoDB serialises
transactions, so we do the same here: requests are accepted concurrently, but moto handles
one at a time. Usage: serve.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Produce the whole body inside the lock: the call is over when the lock is released.
            return list(app(environ, start_response))

    run_simple(host, port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
