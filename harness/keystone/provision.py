"""Creates the harness accounts in a freshly bootstrapped Keystone through its v3 API and
writes what a test needs to know about them to a JSON file.

Usage: provision.py AUTH_URL OUTPUT_JSON   (admin password in HARNESS_ADMIN_PASSWORD)
Only the standard library: it runs in the harness venv but needs nothing from it.
"""

import json
import os
import secrets
import sys
import urllib.request

AUTH_URL, OUTPUT = sys.argv[1], sys.argv[2]
ADMIN_PASSWORD = os.environ["HARNESS_ADMIN_PASSWORD"]
DOMAIN = "default"


def call(method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(AUTH_URL + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
        return response.headers, (json.loads(raw) if raw else None)


def password_token(user, password, project):
    headers, _ = call("POST", "/auth/tokens", body={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": DOMAIN}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": DOMAIN}}},
    }})
    return headers["X-Subject-Token"]


admin = password_token("admin", ADMIN_PASSWORD, "admin")


def find(kind, name):
    _, body = call("GET", f"/{kind}?name={name}", admin)
    found = body[kind]
    return found[0]["id"] if found else None


def ensure(kind, singular, name, extra):
    existing = find(kind, name)
    if existing:
        return existing
    _, body = call("POST", f"/{kind}", admin, {singular: {"name": name, **extra}})
    return body[singular]["id"]


roles = {name: ensure("roles", "role", name, {}) for name in ("admin", "member", "reader", "service")}
projects = {
    name: ensure("projects", "project", name, {"domain_id": DOMAIN, "description": description})
    for name, description in (
        ("service", "Service users (heat)"),
        ("alpha", "Test project of alice"),
        ("beta", "Test project of bob"),
    )
}
accounts = {
    "admin": {"id": find("users", "admin"), "password": ADMIN_PASSWORD, "project": "admin", "role": "admin"},
}
for user, project, role in (("heat", "service", "service"), ("alice", "alpha", "member"), ("bob", "beta", "member")):
    password = secrets.token_urlsafe(18)
    user_id = find("users", user)
    if user_id:
        call("PATCH", f"/users/{user_id}", admin, {"user": {"password": password}})
    else:
        user_id = ensure("users", "user", user, {
            "domain_id": DOMAIN, "password": password, "default_project_id": projects[project]})
    call("PUT", f"/projects/{projects[project]}/users/{user_id}/roles/{roles[role]}", admin)
    accounts[user] = {"id": user_id, "password": password, "project": project, "role": role}

projects["admin"] = find("projects", "admin")
document = {
    "domain": {"id": DOMAIN, "name": "Default"},
    "projects": {name: {"id": project_id} for name, project_id in projects.items()},
    "users": accounts,
}
fd = os.open(OUTPUT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as out:
    json.dump(document, out, indent=2)
    out.write("\n")
