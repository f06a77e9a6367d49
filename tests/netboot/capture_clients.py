"""Record the DHCP messages real clients send (run as root: ``python -m tests.netboot.capture_clients``).

Each client runs in a fresh namespace pair; a UDP socket on port 67 in the server namespace stores every
datagram as one hex line in ``fixtures/<client>.hex``. Used once to make the codec fixtures.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from tests.netboot.netns import entered, veth_lab

FIXTURES = Path(__file__).parent / "fixtures"
CLIENTS = {
    "dhclient": ["dhclient", "-4", "-v", "-1", "-pf", "/tmp/nbcap.pid", "-lf", "/tmp/nbcap.leases", "vcli"],
    "udhcpc": [
        "udhcpc",
        "-i",
        "vcli",
        "-n",
        "-q",
        "-f",
        "-t",
        "2",
        "-T",
        "1",
        "-x",
        "hostname:capture",
        "-V",
        "PXEClient:Arch:00000:UNDI:002001",
        "-O",
        "bootfile",
        "-s",
        "/bin/true",
    ],
    "dhcpcd": [
        "dhcpcd",
        "-4",
        "-1",
        "-B",
        "-t",
        "3",
        "--noarp",
        "--nohook",
        "resolv.conf",
        "-f",
        "/dev/null",
        "vcli",
    ],
}


def capture(name: str, argv: list[str], seconds: float = 4.0) -> list[bytes]:
    got: list[bytes] = []
    with veth_lab(client_mac="52:54:00:ca:fe:01") as lab:
        ready = threading.Event()

        def listen() -> None:
            with entered(lab.srv):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, lab.srv_if.encode())
            sock.bind(("0.0.0.0", 67))
            sock.settimeout(0.2)
            ready.set()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    got.append(sock.recv(4096))
                except TimeoutError:
                    continue
            sock.close()

        t = threading.Thread(target=listen)
        t.start()
        ready.wait()
        proc = lab.popen_cli(*argv)
        t.join()
        proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
    (FIXTURES / f"{name}-discover.hex").write_text("".join(p.hex() + "\n" for p in got[:2]))
    return got


if __name__ == "__main__":
    for client, argv in CLIENTS.items():
        packets = capture(client, argv)
        print(client, len(packets))  # noqa: T201 - a command-line tool
