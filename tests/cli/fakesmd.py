"""An in-memory SMD for in-process CLI tests: records every request and answers like spec §1.

It is a fake (real behaviour, in memory), plugged into the CLI's httpx client as a MockTransport. The
end-to-end tests run the same commands against the real pychami server.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

BASE = "/hsm/v2"


@dataclass
class Call:
    """One recorded request."""

    method: str
    path: str
    params: list[tuple[str, str]]
    body: Any
    auth: str | None


def _msg(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"code": 0, "message": message})


def _problem(status: int, detail: str) -> httpx.Response:
    titles = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}
    return httpx.Response(
        status,
        json={
            "type": "about:blank",
            "title": titles.get(status, "Error"),
            "detail": detail,
            "status": status,
        },
        headers={"Content-Type": "application/problem+json"},
    )


@dataclass
class FakeSMD:
    """State plus a request handler."""

    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    ifaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    rfes: dict[str, dict[str, Any]] = field(default_factory=dict)
    compeps: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    fail: dict[tuple[str, str], int] = field(default_factory=dict)
    parse_interfaces: bool = True
    """False behaves like SMD before v2.19, whose RFE parse did not create interfaces."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    """One request at a time, like a server with a serialising database: clients may send concurrently."""

    def transport(self) -> httpx.MockTransport:
        """The transport to give the CLI."""
        return httpx.MockTransport(self.handle)

    def requests(self, method: str | None = None) -> list[tuple[str, str]]:
        """(method, path) of every recorded request, optionally of one method."""
        return [(c.method, c.path) for c in self.calls if method is None or c.method == method]

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        path = url.path
        body = json.loads(request.content) if request.content else None
        call = Call(request.method, path, parse_qsl(url.query), body, request.headers.get("Authorization"))
        self.calls.append(call)
        if (request.method, path) in self.fail:
            return _problem(self.fail[(request.method, path)], "injected failure")
        if not path.startswith(BASE):
            return httpx.Response(404, text="404 page not found\n")
        return self._route(request.method, path[len(BASE) :].rstrip("/"), call)

    # -- routing -----------------------------------------------------------------------------------
    def _route(self, method: str, p: str, call: Call) -> httpx.Response:
        body = call.body
        if p == "/service/ready":
            return _msg(200, "HSM is healthy")
        if p == "/service/values":
            return httpx.Response(200, json={"State": ["Unknown", "On", "Ready"], "Role": ["Compute"]})
        if p == "/State/Components":
            if method == "GET":
                return httpx.Response(200, json={"Components": list(self.components.values())})
            if method == "POST":
                for c in body["Components"]:
                    if c["ID"] not in self.components:
                        self.components[c["ID"]] = self._component(c)
                    elif body.get("Force"):
                        self.components[c["ID"]].update({k: c[k] for k in ("State", "Flag") if k in c})
                return httpx.Response(204)
            if method == "DELETE":
                return self._delete_all(self.components)
        if p == "/State/Components/Query":
            ids = body["ComponentIDs"]
            return httpx.Response(
                200, json={"Components": [self.components[i] for i in ids if i in self.components]}
            )
        if p == "/State/Components/ByNID/Query":
            want = {int(n) for n in body["NIDRanges"]}
            return httpx.Response(
                200, json={"Components": [c for c in self.components.values() if c.get("NID") in want]}
            )
        if p == "/State/Components/BulkNID":
            for c in body["Components"]:
                self.components[c["ID"]]["NID"] = c["NID"]
            return httpx.Response(204)
        if m := re.fullmatch(r"/State/Components/ByNID/(\d+)", p):
            for c in self.components.values():
                if c.get("NID") == int(m.group(1)):
                    return httpx.Response(200, json=c)
            return _problem(404, "no such NID.")
        if m := re.fullmatch(r"/State/Components/([^/]+)", p):
            return self._one(method, m.group(1), self.components, body, "no such xname.")
        if p == "/Inventory/EthernetInterfaces":
            if method == "GET":
                out = list(self.ifaces.values())
                for key, value in call.params:
                    out = [i for i in out if str(i.get(key, "")) == value or _ip_match(i, key, value)]
                return httpx.Response(200, json=out)
            if method == "POST":
                return self._add_iface(body)
            if method == "DELETE":
                return self._delete_all(self.ifaces)
        if m := re.fullmatch(r"/Inventory/EthernetInterfaces/([^/]+)/IPAddresses", p):
            if m.group(1) not in self.ifaces:
                return _problem(404, f"No such component ethernet interface: {m.group(1)}")
            return httpx.Response(200, json=self.ifaces[m.group(1)]["IPAddresses"])
        if m := re.fullmatch(r"/Inventory/EthernetInterfaces/([^/]+)", p):
            return self._one(
                method, m.group(1), self.ifaces, body, f"No such component ethernet interface: {m.group(1)}"
            )
        if p == "/Inventory/RedfishEndpoints":
            if method == "GET":
                ids = [v for k, v in call.params if k == "id"]
                out = [r for r in self.rfes.values() if not ids or r["ID"] in ids]
                return httpx.Response(200, json={"RedfishEndpoints": out})
            if method == "POST":
                # one endpoint, or {"RedfishEndpoints": [...]}: all stored or none (409)
                items = body.get("RedfishEndpoints", [body])
                if any(item["ID"] in self.rfes for item in items):
                    return _problem(
                        409,
                        "operation would conflict with an existing resource that has the same FQDN or "
                        "xname ID.",
                    )
                for item in items:
                    self._store_rfe(item)
                return httpx.Response(
                    201, json=[{"URI": f"{BASE}/Inventory/RedfishEndpoints/{i['ID']}"} for i in items]
                )
            if method == "DELETE":
                return self._delete_all(self.rfes)
        if m := re.fullmatch(r"/Inventory/RedfishEndpoints/([^/]+)", p):
            if method == "PUT":
                self._store_rfe(body)
                return httpx.Response(200, json=self.rfes[m.group(1)])
            return self._one(method, m.group(1), self.rfes, body, "no such xname.")
        if p == "/Inventory/ComponentEndpoints":
            if method == "DELETE":
                return self._delete_all(self.compeps)
            ids = [v for k, v in call.params if k == "id"]
            out = [c for c in self.compeps.values() if not ids or c["ID"] in ids]
            return httpx.Response(200, json={"ComponentEndpoints": out})
        if m := re.fullmatch(r"/Inventory/ComponentEndpoints/([^/]+)", p):
            return self._one(method, m.group(1), self.compeps, body, "no such xname.")
        return self._groups(method, p, call)

    def _groups(self, method: str, p: str, call: Call) -> httpx.Response:
        body = call.body
        if p == "/groups":
            if method == "GET":
                labels = [v for k, v in call.params if k == "group"]
                tags = [v for k, v in call.params if k == "tag"]
                out = [
                    g
                    for g in self.groups.values()
                    if (not labels or g["label"] in labels)
                    and (not tags or set(tags) & set(g.get("tags", [])))
                ]
                return httpx.Response(200, json=out)
            if method == "POST":
                if body["label"] in self.groups:
                    return _problem(
                        409,
                        "operation would conflict with an existing group that has the same label or "
                        "duplicate ids found in request.",
                    )
                for x in body.get("members", {}).get("ids", []):
                    if x not in self.components:
                        return _problem(400, f"couldn't validate group: no such component {x}")
                self.groups[body["label"]] = {"members": {"ids": []}, **body}
                return httpx.Response(201, json=[{"URI": f"{BASE}/groups/{body['label']}"}])
        if m := re.fullmatch(r"/groups/([^/]+)/members", p):
            g = self.groups.get(m.group(1))
            if g is None:
                return _problem(404, f"No such group: {m.group(1)}")
            if method == "GET":
                return httpx.Response(200, json=g["members"])
            if method == "POST":
                if body["id"] in g["members"]["ids"]:
                    return _problem(409, "operation would conflict with an existing member.")
                g["members"]["ids"].append(body["id"])
                return httpx.Response(201, json=[{"URI": f"{BASE}/groups/{m.group(1)}/members/{body['id']}"}])
            if method == "PUT":
                g["members"]["ids"] = list(body["ids"])
                return httpx.Response(204)
        if m := re.fullmatch(r"/groups/([^/]+)/members/([^/]+)", p):
            g = self.groups.get(m.group(1))
            if g is None or m.group(2) not in g["members"]["ids"]:
                return _problem(404, "no such member.")
            g["members"]["ids"].remove(m.group(2))
            return _msg(200, "deleted 1 entry")
        if m := re.fullmatch(r"/groups/([^/]+)", p):
            if method == "PATCH":
                if m.group(1) not in self.groups:
                    return _problem(404, "no such group.")
                self.groups[m.group(1)].update(
                    {k: v for k, v in body.items() if k in ("description", "tags")}
                )
                return httpx.Response(204)
            return self._one(method, m.group(1), self.groups, body, f"No such group: {m.group(1)}")
        return httpx.Response(404, text="404 page not found\n")

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _component(c: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in c.items() if v not in ("", None)}
        out.setdefault("Type", "Node" if re.fullmatch(r"x\d+c\d+s\d+b\d+n\d+", c["ID"]) else "NodeBMC")
        out.setdefault("Enabled", True)
        if out["Type"] == "Node":
            out.setdefault("Role", "Compute")
        return out

    def _one(self, method: str, key: str, table: dict[str, Any], body: Any, missing: str) -> httpx.Response:
        if method == "PUT" and table is self.components:
            comp = dict(body["Component"], ID=key)
            if key in table:
                table[key].update({k: comp[k] for k in ("State", "Flag") if k in comp})
            else:
                table[key] = self._component(comp)
            return httpx.Response(204)
        if key not in table:
            return _problem(404, missing)
        if method == "GET":
            return httpx.Response(200, json=table[key])
        if method == "DELETE":
            del table[key]
            return _msg(200, "deleted 1 entry")
        if method == "PATCH" and table is self.ifaces:
            table[key].update(
                {k: v for k, v in body.items() if k in ("Description", "ComponentID", "IPAddresses")}
            )
            return httpx.Response(200, json=table[key])
        return _problem(405, "allow GET,DELETE")

    @staticmethod
    def _delete_all(table: dict[str, Any]) -> httpx.Response:
        n = len(table)
        if not n:
            return _problem(404, "no entries to delete")
        table.clear()
        return _msg(200, f"deleted {n} entries")

    def _add_iface(self, body: dict[str, Any]) -> httpx.Response:
        mac = body["MACAddress"].lower()
        iid = mac.replace(":", "")
        if iid in self.ifaces:
            return _problem(
                409,
                "operation would conflict with an existing component ethernet interface that has the "
                "same MAC address.",
            )
        self.ifaces[iid] = {
            "ID": iid,
            "Description": body.get("Description", ""),
            "MACAddress": mac,
            "ComponentID": body.get("ComponentID", ""),
            "Type": "Node" if body.get("ComponentID") else "",
            "IPAddresses": body.get("IPAddresses") or [],
        }
        return httpx.Response(201, json={"URI": f"{BASE}/Inventory/EthernetInterfaces/{iid}"})

    def _store_rfe(self, body: dict[str, Any]) -> None:
        rid = body["ID"]
        self.rfes[rid] = {k: v for k, v in body.items() if k not in ("Systems", "Managers", "SchemaVersion")}
        self.components.setdefault(rid, {"ID": rid, "Type": "NodeBMC", "Enabled": True})
        for i, system in enumerate(body.get("Systems") or []):
            xname = f"{rid}n{i}"
            comp = self.components.setdefault(xname, self._component({"ID": xname, "NID": i + 1}))
            comp["State"] = "On"
            self.compeps[xname] = {"ID": xname, "RedfishEndpointID": rid, "Enabled": True}
            for e in (system.get("ethernet_interfaces") or []) if self.parse_interfaces else []:
                self._add_iface(
                    {
                        "MACAddress": e["mac"],
                        "ComponentID": xname,
                        "Description": e.get("description", ""),
                        "IPAddresses": [{"IPAddress": e["ip"]}] if e.get("ip") else [],
                    }
                )


def _ip_match(iface: dict[str, Any], key: str, value: str) -> bool:
    if key == "IPAddress":
        return any(ip["IPAddress"] == value for ip in iface["IPAddresses"])
    if key == "Network":
        return any(ip.get("Network") == value for ip in iface["IPAddresses"])
    return False
