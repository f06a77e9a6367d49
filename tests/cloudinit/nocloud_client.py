"""Runs under Debian's /usr/bin/python3 with the distribution's ``cloudinit`` package (not our venv).

Fetches a NoCloud-net seed the way cloud-init's NoCloud data source does (``util.read_seeded``), feeds
the vendor-data through cloud-init's own user-data processor (which follows ``#include`` and fetches
the group configs), renders each Jinja part with cloud-init's renderer and the fetched meta-data, and
prints everything as JSON. Finally it phones home as ``cc_phone_home`` does.
Usage: python3 nocloud_client.py SEED_URL RENDER_DIR
"""

import json
import os
import sys
import tempfile

from cloudinit.handlers.jinja_template import render_jinja_payload

from cloudinit import helpers, url_helper, user_data, util


def main() -> None:
    seed, out_dir = sys.argv[1], sys.argv[2]
    md, ud, vd = util.read_seeded(base=seed, timeout=5, retries=0)
    with tempfile.TemporaryDirectory() as cloud_dir:
        paths = helpers.Paths({"cloud_dir": cloud_dir, "run_dir": cloud_dir})
        message = user_data.UserDataProcessor(paths).process(vd)
    parts = []
    for index, part in enumerate(p for p in message.walk() if not p.is_multipart()):
        payload = part.get_payload(decode=True).decode("utf-8")
        entry = {"type": part.get_content_type(), "payload": payload}
        if entry["type"] == "text/jinja2":
            rendered = render_jinja_payload(payload, f"part-{index}", {"ds": {"meta_data": md}})
            path = os.path.join(out_dir, f"part-{index}.yaml")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(rendered)
            entry["rendered_path"] = path
        parts.append(entry)
    # What cc_phone_home posts: the host keys and ids, form-encoded, to the phone_home url.
    phone_home = f"{seed}phone-home/{md['instance-id']}"
    form = {"pub_key_ed25519": "ssh-ed25519 AAAAHOSTKEY root@node", "instance_id": md["instance-id"]}
    form.update({"hostname": md["local-hostname"], "fqdn": md["hostname"]})
    status = url_helper.read_file_or_url(phone_home, data=form, timeout=5, retries=0).code
    json.dump(
        {
            "phone_home_status": status,
            "meta_data": md,
            "user_data": ud.decode(),
            "vendor_data": vd.decode(),
            "parts": parts,
        },
        sys.stdout,
    )


main()
