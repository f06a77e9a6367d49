"""The C peers, configured for the same nodes: dnsmasq and ISC Kea (DHCP), nginx (static files)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FIRMWARE_FILE = "ipxe.efi"


def dnsmasq_argv(work: Path, iface: str, server_ip: str, router: str, boot_url: str) -> list[str]:
    """dnsmasq with one ``dhcp-host`` line per node (a hosts file), DNS off, no lease file writes."""
    return [
        "dnsmasq",
        "--no-daemon",
        "--conf-file=/dev/null",
        "--port=0",
        f"--interface={iface}",
        "--bind-interfaces",
        "--dhcp-range=198.19.0.0,static,255.255.0.0,1h",
        "--dhcp-authoritative",
        "--dhcp-lease-max=100000",  # default 1000: the 1001st node would get a NAK
        f"--dhcp-hostsfile={work / 'dnsmasq-hosts.txt'}",
        "--leasefile-ro",
        "--no-ping",
        "--log-facility=/dev/null",
        "--user=root",
        "--pid-file=",
        "--dhcp-userclass=set:ipxe,iPXE",
        f"--dhcp-boot=tag:!ipxe,{FIRMWARE_FILE},,{server_ip}",
        f"--dhcp-boot=tag:ipxe,{boot_url}",
        f"--dhcp-option=3,{router}",
        f"--dhcp-option=6,{server_ip}",
        "--domain=cluster",
    ]


def dnsmasq_hosts(nodes: Sequence[dict[str, Any]]) -> str:
    return "".join(f"{n['mac']},{n['ip']},{n['hostname']}\n" for n in nodes)


def kea_config(
    work: Path, iface: str, server_ip: str, router: str, boot_url: str, nodes: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """kea-dhcp4 with a memfile lease database and one host reservation per node."""
    return {
        "Dhcp4": {
            "interfaces-config": {"interfaces": [f"{iface}/{server_ip}"], "dhcp-socket-type": "udp"},
            "lease-database": {
                "type": "memfile",
                "persist": True,
                "name": str(work / "kea-leases.csv"),
                "lfc-interval": 0,
            },
            "valid-lifetime": 3600,
            "authoritative": True,
            "host-reservation-identifiers": ["hw-address"],
            "client-classes": [
                {"name": "ipxe", "test": "option[77].hex == 'iPXE'", "boot-file-name": boot_url},
                {
                    "name": "firmware",
                    "test": "not member('ipxe') and substring(option[60].hex,0,9) == 'PXEClient'",
                    "boot-file-name": FIRMWARE_FILE,
                    "next-server": server_ip,
                },
            ],
            "subnet4": [
                {
                    "id": 1,
                    "subnet": "198.19.0.0/16",
                    "pools": [{"pool": "198.19.250.1 - 198.19.250.250"}],
                    "option-data": [
                        {"name": "routers", "data": router},
                        {"name": "domain-name-servers", "data": server_ip},
                        {"name": "domain-name", "data": "cluster"},
                    ],
                    "reservations-in-subnet": True,
                    "reservations-out-of-pool": True,
                    "reservations": [
                        {"hw-address": n["mac"], "ip-address": n["ip"], "hostname": n["hostname"]}
                        for n in nodes
                    ],
                }
            ],
            "loggers": [
                {
                    "name": "kea-dhcp4",
                    "output_options": [{"output": str(work / "kea.log")}],
                    "severity": "WARN",
                }
            ],
        }
    }


def write_kea(work: Path, *args: Any) -> Path:
    path = work / "kea-dhcp4.json"
    path.write_text(json.dumps(kea_config(work, *args)))
    return path


def nginx_conf(work: Path, static: Path, objects: Path, listen: str, workers: int) -> Path:
    """nginx serving what pychami served, from files: scripts by MAC, documents by node address."""
    conf = work / "nginx.conf"
    tmp = work / "nginx-tmp"
    tmp.mkdir(exist_ok=True)
    temp_paths = "".join(
        f"  {kind}_temp_path {tmp};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf.write_text(
        f"""daemon off;
user root;
worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  default_type text/plain;
{temp_paths}  map $http_x_forwarded_for $node {{ "" $remote_addr; default $http_x_forwarded_for; }}
  server {{
    listen {listen} backlog=4096;
    root {static};
    location = /boot/v1/bootscript {{ try_files /bootscript/$arg_mac =404; }}
    location /boot-images/ {{ root {objects}; default_type application/octet-stream; }}
    location = /cloud-init/meta-data {{ default_type application/x-yaml; try_files /meta-data/$node =404; }}
    location = /cloud-init/vendor-data {{ try_files /vendor-data/$node =404; }}
    location = /cloud-init/user-data {{ try_files /user-data/all =404; }}
    location ~ ^/cloud-init/[^/]+\\.yaml$ {{ try_files /group-yaml/all =404; }}
    location /cloud-init/phone-home/ {{ return 200; }}
  }}
}}
"""
    )
    return conf
