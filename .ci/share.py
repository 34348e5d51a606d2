"""Pharos's TAXII 2.1 server and client against the reference implementations,
and its MISP and STIX output against MISP's own libraries. Run by .ci/share
(which makes the venv and builds pharos); all on loopback.

1. Server side, with the OASIS reference client `taxii2-client`:
   discovery, collections, paging through >= 1,000 objects (POSTed by the
   client itself into the analysts' inbox), `added_after` past the newest
   object returns nothing, a partner of another organisation with low
   clearance never receives a RED object or another organisation's
   AMBER+STRICT object, and every object served passes the OASIS validator
   (strict, refs enforced) as the exported bundles do.
2. Client side, with the OASIS reference server `medallion`:
   `pharos share push` then `pharos share pull` into a fresh store loses no
   object; a second pull imports nothing new; `pharos share list` shows them.
3. MISP: PyMISP loads every event `pharos export misp` writes; misp-stix
   converts the `pharos export stix` bundle into MISP without errors.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PHAROS = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="pharos-share-ci-")
STORE = os.path.join(TMP, "pharos.db")
PROCS = []


def step(msg):
    print(f"share: {msg}", flush=True)


def fail(msg):
    print(f"share: FAILED: {msg}", file=sys.stderr, flush=True)
    for p in PROCS:
        p.terminate()
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def pharos(*args, capture=True):
    r = subprocess.run([PHAROS, *args], capture_output=capture, text=True)
    if r.returncode != 0:
        fail(f"pharos {' '.join(args)}: exit {r.returncode}\n{r.stderr}")
    return r.stdout


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, proc, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            fail(f"{url}: the server exited ({proc.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers (401 without credentials)
        except OSError:
            time.sleep(0.5)
    fail(f"{url} did not answer within {seconds} s")


# --- a store with incidents and tokens ------------------------------------
step(f"store in {TMP}")
scenario = os.path.join(TMP, "scenario.jsonl")
pharos("simulate", "--posts", "6000", "--seed", "7", "--out", scenario, "-q")
pharos("ingest", scenario, "--store", STORE, "-q")
pharos("assess", "--store", STORE, "--out", os.path.join(TMP, "assess"), "-q")


# Token ids by name: RED markings name the people they clear by token id.
TOKEN_IDS = {}


def token(role, name, org=None):
    args = ["token", "create", "--role", role, "--name", name, "--json", "--store", STORE]
    if org:
        args += ["--org", org]
    created = json.loads(pharos(*args))
    TOKEN_IDS[name] = created["id"]
    return created["token"]


ADMIN = token("admin", "ada")
ANALYST = token("analyst", "ann")
ACME = token("partner", "pat", "acme")
ZETA = token("partner", "zoe", "zeta")

port = free_port()
BASE = f"http://127.0.0.1:{port}"
config = os.path.join(TMP, "serve.toml")
with open(config, "w") as f:
    f.write('[tlp]\norgs = ["acme"]\n')
serve = subprocess.Popen(
    [PHAROS, "serve", "--store", STORE, "--listen", f"127.0.0.1:{port}", "--config", config],
    stdout=subprocess.DEVNULL,
    stderr=open(os.path.join(TMP, "serve.log"), "w"),
)
PROCS.append(serve)
wait_http(f"{BASE}/taxii2/", serve)


def api(method, path, tok, body=None):
    req = urllib.request.Request(BASE + path, method=method, data=body)
    req.add_header("Authorization", f"Bearer {tok}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


incidents = api("GET", "/api/incidents", ANALYST)
check(len(incidents) >= 3, f"the scenario gives three incidents ({len(incidents)})")
RED, STRICT, CLEAR = incidents[0]["id"], incidents[1]["id"], incidents[2]["id"]
api("PUT", f"/api/markings/incident/{RED}", ADMIN, json.dumps({"tlp": "red", "people": [TOKEN_IDS["ann"]]}).encode())
api("PUT", f"/api/markings/incident/{STRICT}", ADMIN, json.dumps({"tlp": "amber+strict", "orgs": ["acme"]}).encode())
api("PUT", f"/api/markings/incident/{CLEAR}", ADMIN, json.dumps({"tlp": "clear"}).encode())

# --- 1. the server against taxii2-client ----------------------------------
from taxii2client.v21 import Server, ApiRoot, Collection, as_pages  # noqa: E402

step("taxii2-client: discovery and collections")
server = Server(f"{BASE}/taxii2/", user="taxii2-client", password=ANALYST)
check(server.default is not None, "the discovery document names a default API root")
root = server.default
check(root.url.endswith("/taxii2/pharos/"), root.url)
cols = {c.title: c for c in root.collections}
check("Pharos findings" in cols and "Analysts' inbox" in cols, f"collections: {list(cols)}")
findings_id = cols["Pharos findings"].id
inbox = cols["Analysts' inbox"]
check(inbox.can_write, "the analysts' inbox is writable for an analyst")

step("taxii2-client: POST 1,200 objects, then page through them")
objs = [
    {
        "type": "url",
        "spec_version": "2.1",
        "id": f"url--{i:08x}-0000-4000-8000-{i:012x}",
        "value": f"https://partner.example/item/{i}",
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    }
    for i in range(1200)
]
status = inbox.add_objects(json.dumps({"objects": objs}), wait_for_completion=True)
check(status.status == "complete", f"status {status.status}")
check(status.success_count == 1200 and status.failure_count == 0, f"status counts {status.success_count}/{status.failure_count}")
seen = []
pages = 0
for envelope in as_pages(inbox.get_objects, per_request=100):
    pages += 1
    seen += [o["id"] for o in envelope.get("objects", [])]
check(len(seen) == 1200 and len(set(seen)) == 1200, f"paged {len(seen)} objects ({len(set(seen))} distinct) in {pages} pages")
check(pages >= 12, f"{pages} pages of 100")
manifest = []
for envelope in as_pages(inbox.get_manifest, per_request=500):
    manifest += envelope.get("objects", [])
newest = max(m["date_added"] for m in manifest)
after = inbox.get_objects(added_after=newest)
check(not after.get("objects"), f"added_after the newest object returned {len(after.get('objects', []))} objects")

step("taxii2-client: a low-clearance partner of another organisation")


def all_objects(tok, cid):
    c = Collection(f"{BASE}/taxii2/pharos/collections/{cid}/", user="x", password=tok)
    out = []
    for envelope in as_pages(c.get_objects, per_request=1000):
        out += envelope.get("objects", [])
    return out


def export_ids(inc):
    path = os.path.join(TMP, f"{inc}.json")
    pharos("export", "stix", "--store", STORE, "--incident", inc, "--out", path, "-q")
    with open(path) as f:
        return {o["id"] for o in json.load(f)["objects"]}


zeta = all_objects(ZETA, findings_id)
zeta_ids = {o["id"] for o in zeta}
red, strict, clear = export_ids(RED), export_ids(STRICT), export_ids(CLEAR)
check(clear <= zeta_ids, "zeta sees the CLEAR incident")
red_only, strict_only = red - clear, strict - clear
check(not (zeta_ids & red_only), f"zeta received {len(zeta_ids & red_only)} objects of the RED incident")
check(not (zeta_ids & strict_only), f"zeta received {len(zeta_ids & strict_only)} objects of acme's AMBER+STRICT incident")
acme_ids = {o["id"] for o in all_objects(ACME, findings_id)}
check(strict <= acme_ids, "acme sees its AMBER+STRICT incident")
analyst = all_objects(ANALYST, findings_id)
check({o["id"] for o in analyst} >= red | strict | clear, "the analyst sees every incident")

step("OASIS validator: what the server serves (strict, refs enforced)")
from stix2validator import ValidationOptions, validate_parsed_json  # noqa: E402

opts = ValidationOptions(version="2.1", strict=True, enforce_refs=True, disabled=["302", "202", "401"])
for who, objects in [("analyst", analyst), ("zeta", zeta)]:
    bundle = {"type": "bundle", "id": "bundle--6f1e3a52-3b8e-4c61-9f1a-2f4b7f0c5d11", "objects": objects}
    res = validate_parsed_json(bundle, opts)
    if not res.is_valid:
        for r in res.errors[:20]:
            print(f"  {r}", file=sys.stderr)
        fail(f"the objects served to {who} do not validate")

# --- 2. the client against medallion --------------------------------------
step("medallion: pharos share push, then pull into a fresh store")
mport = free_port()
MBASE = f"http://127.0.0.1:{mport}"
COLL = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4"
data = {
    "/discovery": {
        "title": "medallion for Pharos CI",
        "default": f"{MBASE}/api1/",
        "api_roots": [f"{MBASE}/api1/"],
    },
    "api1": {
        "information": {
            "title": "api1",
            "versions": ["application/taxii+json;version=2.1"],
            "max_content_length": 2000000,
        },
        "status": [],
        "collections": [
            {
                "id": COLL,
                "title": "Pharos round trip",
                "can_read": True,
                "can_write": True,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": [],
                "manifest": [],
            }
        ],
    },
}
with open(os.path.join(TMP, "medallion-data.json"), "w") as f:
    json.dump(data, f)
mconf = os.path.join(TMP, "medallion.json")
with open(mconf, "w") as f:
    json.dump(
        {
            "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": os.path.join(TMP, "medallion-data.json")},
            "users": {"pharos": "secret"},
            "taxii": {"max_page_size": 100},
        },
        f,
    )
# medallion 3.0.0 reads a STIX object's `version` property as its version
# timestamp (find_att), so a collection holding an extension-definition
# (whose `version` is required by STIX, e.g. "1.0.0") answers 500 to every
# objects request. Run it with find_att reading `version` from manifest
# entries only (they have no `type`), as its docstring says it should.
MEDALLION = """
import sys
import medallion.common as common
from medallion.backends import memory_backend
from medallion.filters import basic_filter
from medallion.scripts.run import main
_orig = common.find_att
def find_att(obj):
    if "type" in obj and "version" in obj:
        obj = {k: v for k, v in obj.items() if k != "version"}
    return _orig(obj)
common.find_att = memory_backend.find_att = basic_filter.find_att = find_att
sys.exit(main())
"""
medallion = subprocess.Popen(
    [sys.executable, "-c", MEDALLION, "--host", "127.0.0.1", "--port", str(mport), mconf],
    stdout=subprocess.DEVNULL,
    stderr=open(os.path.join(TMP, "medallion.log"), "w"),
)
PROCS.append(medallion)
wait_http(f"{MBASE}/taxii2/", medallion)
auth = ["--user", "pharos", "--password", "secret"]
push = json.loads(pharos("share", "push", "--taxii", f"{MBASE}/taxii2/", "--collection", COLL, *auth, "--store", STORE, "--tlp", "green", "--json"))
check(push["failure_count"] == 0, f"medallion refused objects: {push['failures'][:5]}")
bundle_path = os.path.join(TMP, "all.json")
pharos("export", "stix", "--store", STORE, "--tlp", "green", "--out", bundle_path, "-q")
with open(bundle_path) as f:
    exported = {o["id"] for o in json.load(f)["objects"]}
check(push["objects"] == len(exported), f"pushed {push['objects']} of {len(exported)} objects")
fresh = os.path.join(TMP, "fresh.db")
pull = json.loads(pharos("share", "pull", "--taxii", f"{MBASE}/api1/", "--collection", COLL, *auth, "--store", fresh, "--json"))
check(pull["rejected"] == 0, f"rejected on pull: {pull['rejections'][:5]}")
listed = [json.loads(line) for line in pharos("share", "list", "--store", fresh, "--json").splitlines()]
got = {o["id"] for o in listed}
check(got == exported, f"round trip lost {len(exported - got)} objects (and added {len(got - exported)})")
check(all(set(o) == {"id", "type", "modified", "source"} for o in listed), "share list fields")
check(pull["pages"] > 1, f"the pull paged ({pull['pages']} pages of medallion's 100)")
again = json.loads(pharos("share", "pull", "--taxii", f"{MBASE}/api1/", "--collection", COLL, *auth, "--store", fresh, "--json"))
check(again["objects"] == 0, f"a second pull imported {again['objects']} objects again")
step(f"round trip: {len(exported)} objects pushed ({push['envelopes']} envelopes), pulled ({pull['pages']} pages), none lost")

# Pharos pulling from Pharos (its own client against its own server).
pp = json.loads(pharos("share", "pull", "--taxii", f"{BASE}/taxii2/", "--collection", findings_id, "--token", ACME, "--store", os.path.join(TMP, "peer.db"), "--json"))
check(pp["objects"] == len(acme_ids) and pp["rejected"] == 0, f"Pharos from Pharos: {pp['objects']} of {len(acme_ids)}, {pp['rejected']} rejected")

# --- 3. MISP ----------------------------------------------------------------
step("PyMISP loads pharos export misp")
from pymisp import MISPEvent  # noqa: E402

misp_path = os.path.join(TMP, "events.json")
pharos("export", "misp", "--store", STORE, "--tlp", "green", "--out", misp_path, "--feed", os.path.join(TMP, "feed"), "-q")
with open(misp_path) as f:
    events = json.load(f)["response"]
check(len(events) == len(incidents), f"{len(events)} events for {len(incidents)} incidents")
for e in events:
    ev = MISPEvent()
    ev.from_dict(**e)
    check(ev.info and ev.uuid == e["Event"]["uuid"], "event info and uuid")
    tags = {t.name for t in ev.tags}
    check("tlp:green" in tags, f"TLP tag: {tags}")
    names = {o.name for o in ev.objects}
    check("user-account" in names, f"objects: {names}")
    ev.to_json()

step("misp-stix converts the pharos export stix bundle")
from misp_stix_converter import stix_2_to_misp  # noqa: E402

outdir = os.path.join(TMP, "misp-stix")
os.makedirs(outdir, exist_ok=True)
for path in [bundle_path, os.path.join(TMP, f"{CLEAR}.json")]:
    res = stix_2_to_misp(path, debug=True, output_dir=outdir)
    # misp-stix has no mapping for STIX 2.1 `incident` nor for OpenCTI's
    # narrative and channel types: it reports them as "Unable to load STIX
    # object type" and converts the rest. Anything else is a failure.
    unmapped = ("incident", "x-opencti-narrative", "x-opencti-channel")
    other = [
        m
        for msgs in (res.get("errors") or {}).values()
        for m in msgs
        if not any(m.endswith(f"STIX object type: {t}") for t in unmapped)
    ]
    if other or res.get("pymisp_errors") or not res.get("success") or not res.get("results"):
        print(json.dumps(res, indent=1, default=str)[:4000], file=sys.stderr)
        fail(f"misp-stix could not convert {path}: {other[:5]}")
    with open(res["results"][0]) as f:
        converted = json.load(f)
    ev = converted.get("Event", converted)
    check(ev.get("Attribute") or ev.get("Object"), "misp-stix's event holds the observables")
    check(any(g.get("type") for g in ev.get("Galaxy", [])) or ev.get("Tag"), "misp-stix's event holds the campaign and techniques")
    warnings = res.get("warnings") or {}
    n = sum(len(v) for v in warnings.values()) if isinstance(warnings, dict) else len(warnings)
    step(f"misp-stix: {os.path.basename(path)} converted into {len(res['results'])} MISP event(s), {n} warnings")
    for k, v in (warnings.items() if isinstance(warnings, dict) else []):
        print(f"  misp-stix warning: {k}: {v}", flush=True)

for p in PROCS:
    p.terminate()
step("all passed")
