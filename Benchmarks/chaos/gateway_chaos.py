# Gateway chaos client: many short connections misbehaving in every way a client can, to run beside a load
# (wrk) against a gateway and see it stay up, log no errors and keep answering.
#
#   python3 Benchmarks/chaos/gateway_chaos.py PORT [ACCESS_TOKEN]
#
# Expects the routes of scripts/bench-gateway (/bench/plain, /bench/guarded, /bench/inspected). Prints
# "chaos done"; then check the gateway process is alive, its log has no error lines, and it still answers.
import socket, random, time, sys, threading
port = int(sys.argv[1]); token = sys.argv[2] if len(sys.argv) > 2 else None
paths = ["/bench/plain", "/bench/guarded", "/bench/inspected", "/bench/plain?x=1", "/health", "/bench/plain/../x", "/nothing"]
def one():
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(2)
    kind = random.randint(0, 7)
    p = random.choice(paths)
    auth = f"Authorization: Bearer {token}\r\n" if token and random.random() < 0.5 else ""
    req = f"GET {p} HTTP/1.1\r\nHost: localhost\r\n{auth}\r\n".encode()
    try:
        if kind == 0:   # abrupt close right after the request
            s.sendall(req); s.close(); return
        if kind == 1:   # half a request
            s.sendall(req[:random.randint(1, len(req)-1)]); time.sleep(0.01); s.close(); return
        if kind == 2:   # pipelined burst
            s.sendall(req * random.randint(2, 6)); time.sleep(0.02); s.recv(65536); s.close(); return
        if kind == 3:   # POST with body, partial
            body = b"x" * random.randint(1, 5000)
            s.sendall(f"POST /bench/plain HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:len(body)//2]); s.close(); return
        if kind == 4:   # POST full body, read answer
            body = b"y" * random.randint(0, 100000)
            s.sendall(f"POST /bench/plain HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body); s.recv(65536); s.close(); return
        if kind == 5:   # garbage
            s.sendall(b"\x16\x03\x01 garbage \r\n\r\n"); time.sleep(0.01); s.close(); return
        if kind == 6:   # upgrade attempt then close
            s.sendall(f"GET /bench/plain HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()); time.sleep(0.01); s.close(); return
        s.sendall(req); s.recv(65536); s.close()
    except Exception:
        try: s.close()
        except Exception: pass
def worker(n):
    for _ in range(n): one()
ts = [threading.Thread(target=worker, args=(400,)) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print("chaos done")
