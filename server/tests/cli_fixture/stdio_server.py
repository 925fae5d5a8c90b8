"""A small MCP server over stdio for Keyhole's tests (written here): the 2025-11-25 handshake,
one tool `echo`, a tool `crash` that makes the process exit with status 3 mid-call, and a
`sleep` child started at launch, so the tests can check that closing the connection ends the
whole process group (with `PID_FILE` set, both process ids are written there). It logs to
stderr, as the specification asks of stdio servers."""
import json
import os
import subprocess
import sys

helper = subprocess.Popen(["sleep", "300"])
if os.environ.get("PID_FILE"):
    with open(os.environ["PID_FILE"], "w") as pids:
        pids.write(f"{os.getpid()} {helper.pid}")
print(f"stdio test server ready; helper pid {helper.pid}", file=sys.stderr, flush=True)


def reply(message_id, result):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message_id, "result": result}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    message = json.loads(line)
    method, message_id = message.get("method"), message.get("id")
    if message_id is None:
        continue  # notifications
    if method == "initialize":
        reply(message_id, {
            "protocolVersion": message["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "stdio-test", "version": "1"},
        })
    elif method == "tools/list":
        reply(message_id, {"tools": [
            {"name": "echo", "inputSchema": {"type": "object",
                                             "properties": {"message": {"type": "string"}}}},
            {"name": "crash", "inputSchema": {"type": "object", "properties": {}}},
        ]})
    elif method == "tools/call" and message["params"]["name"] == "crash":
        print("crashing on purpose", file=sys.stderr, flush=True)
        sys.exit(3)
    elif method == "tools/call":
        text = message["params"].get("arguments", {}).get("message", "")
        print(f"echo called with {len(text)} characters", file=sys.stderr, flush=True)
        reply(message_id, {"content": [{"type": "text", "text": text}]})
    else:
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message_id,
                                     "error": {"code": -32601, "message": "Method not found"}}) + "\n")
        sys.stdout.flush()
