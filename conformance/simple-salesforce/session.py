"""A scripted session of the simple-salesforce client, used unchanged, against a
Salesforce-compatible server over HTTPS. Prints one JSON line per step; exits non-zero
when any step fails.

Environment: ORG_URL (https://127.0.0.1:PORT), ORG_TOKEN (an access token),
ORG_CA (PEM file of the authority to trust), optionally ORG_API_VERSION (default 62.0).
"""
import json
import os
import sys
from datetime import datetime, timedelta, timezone

import requests
from simple_salesforce import Salesforce

results = []


def step(name, fn):
    try:
        detail = fn()
        results.append({"step": name, "ok": True, "detail": detail})
    except Exception as err:  # report every failure as a step line
        results.append({"step": name, "ok": False, "error": repr(err)})
    print(json.dumps(results[-1]), flush=True)


session = requests.Session()
session.verify = os.environ["ORG_CA"]
host = os.environ["ORG_URL"].replace("https://", "")
sf = Salesforce(
    instance=host,
    session_id=os.environ["ORG_TOKEN"],
    version=os.environ.get("ORG_API_VERSION", "62.0"),
    session=session,
)
state = {}


def create():
    r = sf.Account.create({"Name": "simple-salesforce single"})
    assert r["success"], r
    state["id"] = r["id"]
    return {"id": r["id"]}


def get():
    rec = sf.Account.get(state["id"])
    assert rec["Name"] == "simple-salesforce single", rec
    return {}


def update():
    status = sf.Account.update(state["id"], {"Name": "simple-salesforce updated"})
    assert status == 204, status
    return {}


def query_all():
    r = sf.query_all("SELECT Id, Name FROM Account WHERE Name LIKE 'simple-salesforce%'")
    assert r["totalSize"] == 1, r
    return {"totalSize": r["totalSize"]}


def delete():
    assert sf.Account.delete(state["id"]) == 204
    return {}


def updated_and_deleted():
    end = datetime.now(timezone.utc) + timedelta(minutes=2)
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    up = sf.Account.updated(start, end)
    assert "latestDateCovered" in up, up
    gone = sf.Account.deleted(start, end)
    assert any(d["id"] == state["id"] for d in gone["deletedRecords"]), gone
    return {"deleted": len(gone["deletedRecords"])}


step("describe", lambda: {"fields": len(sf.Account.describe()["fields"])})
step("create", create)
step("get", get)
step("update", update)
step("query_all", query_all)
step("delete", delete)
step("updated/deleted", updated_and_deleted)

failed = sum(1 for r in results if not r["ok"])
print(json.dumps({"summary": True, "steps": len(results), "failed": failed}))
sys.exit(1 if failed else 0)
