"""Test SMTP server (aiosmtpd) and message parser for MailTests.

serve --dir DIR [--tls] [--implicit-tls] [--auth USER:PASS] [--auth-require-tls] [--auth-login-only]
      [--reject-rcpt ADDR]... [--fail-first N] [--silent] [--fragment]
    Listens on a free 127.0.0.1 port and writes it to DIR/port once ready. Every message is saved as
    DIR/msg-N.eml (raw bytes as received, after SMTP dot-unstuffing) and DIR/msg-N.json (envelope).
    Every TCP connection appends a line to DIR/connections.log. With --tls it first generates a CA
    (DIR/ca.pem) and a server certificate for localhost/127.0.0.1 signed by it.
parse FILE
    Prints a JSON summary of an .eml file as Python's email package (policy.default) understands it.
"""
import argparse
import asyncio
import datetime
import ipaddress
import json
import os
import signal
import ssl
import sys
import time

MAX_LIFETIME_SECONDS = 300


def make_certs(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MailTests CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = {name: os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server.key")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(paths["server.key"], "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(paths["server.pem"], paths["server.key"])
    return context


class Handler:
    def __init__(self, directory, reject):
        self.directory = directory
        self.reject = {address.lower() for address in reject}
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, "msg-%d" % self.count)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "tls": server.transport.get_extra_info("ssl_object") is not None}, f)
        return "250 2.0.0 Message accepted"


class Refuser(asyncio.Protocol):
    """Answers 421 and hangs up, like an overloaded relay."""

    def connection_made(self, transport):
        transport.write(b"421 4.3.2 Service not available, try again later\r\n")
        transport.close()


class Silent(asyncio.Protocol):
    """Accepts the connection and never says anything."""


async def serve(args):
    from aiosmtpd.smtp import SMTP, AuthResult

    class FragmentingSMTP(SMTP):
        """Dribbles every reply out in 3-byte writes so the client sees replies split across TCP reads."""

        async def push(self, status):
            data = (status if isinstance(status, bytes) else status.encode("utf-8")) + b"\r\n"
            for start in range(0, len(data), 3):
                self._writer.write(data[start:start + 3])
                await self._writer.drain()
                await asyncio.sleep(0.002)

    directory = args.dir
    tls = make_certs(directory) if (args.tls or args.implicit_tls) else None
    handler = Handler(directory, args.reject_rcpt)
    user, _, password = (args.auth or "").partition(":")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = args.auth is not None and auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535 itself

    connections = 0

    def factory():
        nonlocal connections
        connections += 1
        with open(os.path.join(directory, "connections.log"), "a") as f:
            f.write("connection %d\n" % connections)
        if connections <= args.fail_first:
            return Refuser()
        if args.silent:
            return Silent()
        options = dict(hostname="mail.test", authenticator=authenticator if args.auth else None,
                       auth_require_tls=args.auth_require_tls, decode_data=False)
        if args.auth_login_only:
            options["auth_exclude_mechanism"] = ["PLAIN"]
        if args.tls:
            options["tls_context"] = tls
        return (FragmentingSMTP if args.fragment else SMTP)(handler, **options)

    async def watchdog(parent):
        # Never outlive the test process, even if it crashes before stopping us.
        deadline = time.monotonic() + MAX_LIFETIME_SECONDS
        while os.getppid() == parent and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        os._exit(0)

    loop = asyncio.get_running_loop()
    loop.create_task(watchdog(os.getppid()))
    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=tls if args.implicit_tls else None)
    port = server.sockets[0].getsockname()[1]
    with open(os.path.join(directory, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
    async with server:
        await server.serve_forever()


def parse(path):
    import email
    from email import policy

    with open(path, "rb") as f:
        raw = f.read()
    message = email.message_from_bytes(raw, policy=policy.default)

    def addresses(field):
        header = message[field]
        return [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses] if header else []

    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        parts.append({"content_type": part.get_content_type(), "charset": part.get_content_charset(),
                      "cte": part["Content-Transfer-Encoding"],
                      # SMTP's canonical CRLF stays in decoded payloads; compare text in Python's "\n" form.
                      "content": part.get_content().replace("\r\n", "\n")})
    lines = raw.split(b"\r\n")
    print(json.dumps({
        "subject": str(message["Subject"]), "from": addresses("From"), "to": addresses("To"),
        "message_id": message["Message-ID"], "date": message["Date"], "mime_version": message["MIME-Version"],
        "content_type": message.get_content_type(), "is_multipart": message.is_multipart(),
        "headers": [[k, str(v)] for k, v in message.items()], "parts": parts,
        "defects": [str(d) for d in message.defects] + [str(d) for p in message.walk() for d in p.defects],
        "max_line_length": max(len(line) for line in lines),
        "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
    }))


def main():
    # The Swift test runner spawns us with SIGTERM blocked; without this, terminate() would be ignored.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--dir", required=True)
    s.add_argument("--tls", action="store_true")
    s.add_argument("--implicit-tls", action="store_true")
    s.add_argument("--auth")
    s.add_argument("--auth-require-tls", action="store_true")
    s.add_argument("--auth-login-only", action="store_true")
    s.add_argument("--reject-rcpt", action="append", default=[])
    s.add_argument("--fail-first", type=int, default=0)
    s.add_argument("--silent", action="store_true")
    s.add_argument("--fragment", action="store_true")
    p = sub.add_parser("parse")
    p.add_argument("file")
    args = parser.parse_args()
    if args.command == "serve":
        asyncio.run(serve(args))
    else:
        parse(args.file)


if __name__ == "__main__":
    sys.exit(main())
