#!/usr/bin/env python3
"""Seeds each fuzz target's corpus from the bundled files (bench/fuzz.sh calls this).

Usage: fuzz_seed.py REPO_ROOT CORPUS_DIR

Each target reads raw bytes (see fuzz/harness/); the seeds are the files a user has, put in
the shape the target expects: contracts and OpenAPI documents as they are, feature files from
the suite and from the official Gherkin conformance data, recordings, step files,
expectation/actual pairs from the features' doc strings and the recordings' bodies, and the
recordings' requests as raw requests to the mock (with a bearer token, and after an admin
call that programs a fault).
"""

import hashlib
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
corpus = pathlib.Path(sys.argv[2])


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def files(pattern):
    return sorted(p for p in root.glob(pattern) if p.is_file())


contracts = [p for p in files("**/*.yaml") if "target" not in p.parts and p.read_text(errors="replace").startswith(("contract:", "#"))]
for p in contracts:
    text = p.read_text(errors="replace")
    if "\ncontract:" in text or text.startswith("contract:"):
        put("contract", p.read_bytes())
# Contracts and step files written inline in the tests (raw strings), which cover the
# contract's other sections (webhooks, policies, mappings) the bundled one does not.
import re

for p in files("tests/*.rs") + files("src/**/*.rs"):
    for m in re.finditer(r'r#+"(.*?)"#+', p.read_text(errors="replace"), re.S):
        text = m.group(1)
        if text.lstrip().startswith("contract:") or "\ncontract:" in text:
            put("contract", text)
        if "steps:" in text and "phrase:" in text:
            put("steps", text)
        if text.lstrip().startswith(("openapi:", '{"openapi"', '{ "openapi"')):
            put("openapi", text)
for p in files("contracts/openapi/*"):
    put("openapi", p.read_bytes())
for p in files("tests/fixtures/**/*.json"):
    # Small JSON documents exercise the JSON reader of the OpenAPI loader too.
    if p.stat().st_size < 64 * 1024:
        put("openapi", p.read_bytes())

for p in files("features/*.feature") + files("tests/fixtures/gherkin-testdata/**/*.feature") + files(
    "tests/fixtures/gherkin-testdata/**/*.md"
) + files("tests/fixtures/cck/*.feature"):
    put("gherkin", p.read_bytes())

for p in files("steps/*.yaml"):
    put("steps", p.read_bytes())

recordings = files("recordings/*/*.json")
bodies = []
for p in recordings:
    put("recording", p.read_bytes())
    rec = json.loads(p.read_text())
    for side in ("request", "response"):
        body = rec[side].get("body", {})
        if "json" in body:
            bodies.append(json.dumps(body["json"]))

doc_strings = []
for p in files("features/*.feature"):
    inside, buf = False, []
    for line in p.read_text().splitlines():
        if line.strip().startswith('"""'):
            if inside:
                doc_strings.append("\n".join(buf))
            inside, buf = not inside, []
        elif inside:
            buf.append(line)
        if "${" in line:
            put("interpolate", line.strip() + "\0" + (bodies[0] if bodies else "{}"))
for i, d in enumerate(doc_strings):
    put("matching", d + "\0" + bodies[i % len(bodies)])
    put("interpolate", d + "\0" + bodies[i % len(bodies)])
for b in bodies:
    put("matching", b + "\0" + b)
for marker in ["#string", "#uuid", "#regex ^T-\\d+$", "#[2] #object", "##number", "#media application/json", "#[_ > 1]"]:
    put("matching", marker + "\0" + '"T-1"')

payload = bodies[0] if bodies else "{}"
for style in range(6):
    for flags in (0, 0x40, 0x80, 0xC0):
        put("webhook_sign", bytes([style | flags]) + b"\0whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\0X-Signature\0msg_1\0" + payload.encode())


def raw_request(rec, token=None):
    req = rec["request"]
    target = req["path"]
    if req.get("query"):
        target += "?" + "&".join(f"{k}={v}" for k, v in req["query"])
    lines = [f"{req['method']} {target}", "host: 127.0.0.1"]
    for k, v in req.get("headers", {}).items():
        if k == "authorization":
            continue
        lines.append(f"{k}: {v}")
    if token:
        lines.append(f"authorization: Bearer {token}")
    scenario = rec["meta"].get("scenario")
    if scenario:
        lines.append("x-contrail-scenario: " + scenario)
    body = req.get("body", {})
    text = json.dumps(body["json"]) if "json" in body else body.get("form", body.get("text", ""))
    return "\n".join(lines) + "\n\n" + text


for p in recordings:
    rec = json.loads(p.read_text())
    partner = b"\x00" if rec["meta"]["partner"] == "ticketing" else b"\x01"
    token = "tok_" + hashlib.sha1(p.name.encode()).hexdigest()[:24]
    plain, with_token = raw_request(rec).encode(), raw_request(rec, token).encode()
    req = rec["request"]
    fault = json.dumps({"method": req["method"], "path": req["path"], "status": 429, "retry_after": 2})
    admin = (
        "POST /__contrail/faults\nhost: 127.0.0.1\ncontent-type: application/json\n\n" + fault
    ).encode()
    for target in ("mock_replay", "mock_record", "mock_simulate"):
        put(target, partner + plain)
        put(target, partner + with_token)
        put(target, partner + admin + b"\0" + plain)
for partner, path in ((b"\x01", "/oauth/token"), (b"\x00", "/oauth/token")):
    form = "grant_type=client_credentials&client_id=contrail-qa&client_secret=qa-secret&scope=incidents%3Awrite"
    put("mock_simulate", partner + f"POST {path}\nhost: 127.0.0.1\ncontent-type: application/x-www-form-urlencoded\n\n{form}".encode())

for d in sorted(corpus.iterdir()):
    print(f"seeded {d.name}: {len(list(d.iterdir()))} inputs")
