"""The replay benchmark's workspace, written into WORKDIR: one inline-schema partner, 100
recorded interactions answering ~1 KB of JSON each (50 GETs with a query string, 50 POSTs
with a JSON body), the same 100 requests as a wrk script (mixed.lua, the POST bodies sent with
their keys in another order than recorded: matching is semantic) and as raw HTTP/1.1 for the
profiler's client (requests.http, one request per entry, NUL-separated).

    python3 bench/replay_workspace.py WORKDIR
"""
import json
import os
import sys

work = sys.argv[1]
os.makedirs(f"{work}/contracts", exist_ok=True)
os.makedirs(f"{work}/recordings/api", exist_ok=True)
with open(f"{work}/contracts/api.yaml", "w") as f:
    f.write("""contract: bench
version: "1"
partners:
  api:
    operations:
      - { id: getItem, method: GET, path: "/items/{id}" }
      - { id: addNote, method: POST, path: "/items/{id}/notes" }
""")

lua, raw = [], []
for i in range(100):
    answer = {"id": f"item-{i}", "name": f"Item number {i}", "status": "open",
              "description": "x" * 800, "tags": ["a", "b", "c"],
              "owner": {"id": f"u{i}", "email": "owner@example.com"}}
    meta = {"recorded_at": "2026-11-23T00:00:00Z", "target": "http://127.0.0.1:1", "contract": "bench",
            "contract_version": "1", "partner": "api", "sequence": 1}
    if i % 2 == 0:
        query = [["view", "full"], ["lang", "en"], ["page", str(i)]]
        request = {"method": "GET", "path": f"/items/{i}", "query": query}
        meta["operation"] = "getItem"
        target = f"/items/{i}?view=full&lang=en&page={i}"
        lua.append(f'wrk.format("GET", "{target}")')
        raw.append(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    else:
        note = {"text": f"Called the customer back about item {i}", "priority": "high",
                "author": {"id": f"u{i}", "name": "Ada"}, "tags": ["callback", "sla"], "minutes": i}
        request = {"method": "POST", "path": f"/items/{i}/notes",
                   "headers": {"content-type": "application/json"}, "body": {"json": note}}
        meta["operation"] = "addNote"
        sent = json.dumps(dict(reversed(list(note.items()))))
        lua.append(f'wrk.format("POST", "/items/{i}/notes", {{["Content-Type"] = "application/json"}}, '
                   f'{json.dumps(sent)})')
        raw.append(f"POST /items/{i}/notes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(sent.encode())}\r\n\r\n{sent}")
    rec = {"meta": meta, "request": request,
           "response": {"status": 200, "headers": {"content-type": "application/json"},
                        "body": {"json": answer}}}
    with open(f"{work}/recordings/api/{meta['operation']}-{i:04}.json", "w") as f:
        f.write(json.dumps(rec, indent=2))

with open(f"{work}/mixed.lua", "w") as f:
    f.write("local reqs = {\n  " + ",\n  ".join(lua) + "\n}\n")
    f.write("local i = 0\nrequest = function()\n  i = (i % #reqs) + 1\n  return reqs[i]\nend\n")
with open(f"{work}/requests.http", "w") as f:
    f.write("\0".join(raw))
