"""Hold N idle gRPC channels to a server, as Python's grpcio (C-core) holds them.

Usage: /usr/bin/python3 idle-grpc-channels.py HOST:PORT N
Each channel connects and makes one health Check, then stays idle; the
script prints "ready N" once all have, then sleeps until killed. C-core keeps
its connection after a GOAWAY, so only the server can end these sockets.
"""

import sys
import time

import grpc

target, count = sys.argv[1], int(sys.argv[2])
channels = []
for _ in range(count):
    channel = grpc.insecure_channel(target)
    grpc.channel_ready_future(channel).result(timeout=10)
    # The bytes of an empty HealthCheckRequest: the call's answer does not matter.
    channel.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=10)
    channels.append(channel)
print(f"ready {len(channels)}", flush=True)
time.sleep(600)
