"""Drives python-socketio (the seed app's stack) against a running Gavel, as the Rust test
`tests/python_client.rs` asks. Prints one JSON line per finding; exits non-zero on failure.

    python socketio_clients.py BASE TOKEN ALLOWED_ORIGIN DENIED_ORIGIN AUCTION_ID
"""
import json
import sys
import threading

import socketio

BASE, TOKEN, ALLOWED, DENIED, AUCTION_ID = sys.argv[1:6]
NS = "/auction"


def log(**fields):
    print(json.dumps(fields), flush=True)


def client(origin):
    # websocket-client adds its own Origin unless told which one to send.
    return socketio.Client(reconnection=False, websocket_extra_options={"origin": origin})


def connect(sio, transports, origin, token=TOKEN):
    sio.connect(
        BASE,
        namespaces=[NS],
        socketio_path="api/socket.io",
        transports=transports,
        headers={"Origin": origin},
        auth={"token": token},
        wait_timeout=5,
    )


def round_trip(name, transports):
    a = client(ALLOWED)
    presence = threading.Event()
    seen = {}

    @a.on("presence", namespace=NS)
    def on_presence(data):
        seen.update(data)
        presence.set()

    connect(a, transports, ALLOWED)
    ack = a.call("time:sync", {"sent": 1}, namespace=NS, timeout=5)
    assert ack["ok"] is True and isinstance(ack["server_now"], int), ack
    joined = a.call("auction:join", {"auction_id": int(AUCTION_ID)}, namespace=NS, timeout=5)
    assert joined["ok"] is True and joined["role"] == "commissioner", joined
    b = client(ALLOWED)
    connect(b, transports, ALLOWED)
    b.call("auction:join", {"auction_id": int(AUCTION_ID)}, namespace=NS, timeout=5)
    assert presence.wait(5), "no presence broadcast"
    assert seen.get("online") is True, seen
    log(event="ok", check=name, transport=a.transport(), server_now=ack["server_now"])
    a.disconnect()
    b.disconnect()


def refused(name, transports, origin, token=TOKEN):
    sio = client(origin)
    errors = []

    @sio.on("connect_error", namespace=NS)
    def on_error(data):
        errors.append(data)

    try:
        connect(sio, transports, origin, token)
    except socketio.exceptions.ConnectionError as e:
        log(event="ok", check=name, error=str(e), namespace_errors=errors)
        return
    finally:
        sio.disconnect()
    raise AssertionError(f"{name}: connected but should have been refused")


try:
    round_trip("polling-then-upgrade", ["polling", "websocket"])
    round_trip("websocket-only", ["websocket"])
    refused("denied-polling", ["polling"], DENIED)
    refused("denied-websocket", ["websocket"], DENIED)
    refused("bad-jwt", ["websocket"], ALLOWED, token="not-a-jwt")
except Exception as e:  # noqa: BLE001 - report whatever failed
    log(event="failure", msg=repr(e))
    sys.exit(1)
