"""Runs moto's S3-compatible server on 127.0.0.1, on a port the OS picks, for the tests.

Prints the port on the first line of stdout, then serves until stdin closes (the test that
started it ended or died), so no server outlives its test. Exits 3 with a one-line reason
when moto (pip install 'moto[server]') is not installed, so the tests can skip clearly.
"""

import sys

try:
    from moto.server import ThreadedMotoServer
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"moto's server is not installed ({e}); run: pip install 'moto[server]'", file=sys.stderr)
    sys.exit(3)

import logging

# werkzeug logs every request on stderr whatever `verbose` says. The test that starts this
# server does not read its stderr once the port is known, so after a few hundred requests
# the pipe is full and every request thread blocks on the log lock: the server stops
# answering. Only real errors are logged.
logging.getLogger("werkzeug").setLevel(logging.ERROR)

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server._server.server_port, flush=True)
sys.stdin.read()
server.stop()
