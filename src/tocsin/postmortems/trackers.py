"""Action items in an issue tracker: GitHub Issues and Jira, through their REST APIs
(create an issue, read its status back). Each speaks its tracker's documented shapes:

- GitHub: `POST {url}/repos/{owner}/{repo}/issues` {title, body} → 201 {number, state};
  `GET …/issues/{number}` → {state: open|closed}. Bearer token, `Accept:
  application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`.
- Jira: `POST {url}/rest/api/2/issue` {fields: {project: {key}, summary, description,
  issuetype: {name: Task}}} → 201 {id, key, self}; `GET {url}/rest/api/2/issue/{key}?fields=
  status` → {fields: {status: {name, statusCategory: {key: new|indeterminate|done}}}}.
  Bearer token (a Jira personal access token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from tocsin.settings import Settings

TIMEOUT = httpx.Timeout(10.0)


class TrackerError(Exception):
    """The tracker refused or could not be reached; the message says which."""


@dataclass(frozen=True)
class State:
    status: str
    done: bool


class Tracker(Protocol):
    def create(self, *, title: str, body: str) -> tuple[str, State]: ...

    def state(self, ref: str) -> State: ...


def _checked(response: httpx.Response, expected: int) -> dict[str, object]:
    if response.status_code != expected:
        raise TrackerError(f"{response.request.method} {response.request.url.path}: "
                           f"{response.status_code} {response.text[:200]}")
    body = response.json()
    if not isinstance(body, dict):
        raise TrackerError("the tracker answered something other than a JSON object")
    return body


class GitHubIssues:
    def __init__(self, *, url: str, token: str, repo: str) -> None:
        self.path = f"/repos/{repo}/issues"
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28"})

    def create(self, *, title: str, body: str) -> tuple[str, State]:
        made = _checked(self.http.post(self.path, json={"title": title, "body": body}), 201)
        return str(made["number"]), State(str(made.get("state", "open")),
                                          made.get("state") == "closed")

    def state(self, ref: str) -> State:
        issue = _checked(self.http.get(f"{self.path}/{ref}"), 200)
        return State(str(issue["state"]), issue["state"] == "closed")


class JiraIssues:
    def __init__(self, *, url: str, token: str, project: str) -> None:
        self.project = project
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json"})

    def create(self, *, title: str, body: str) -> tuple[str, State]:
        made = _checked(self.http.post("/rest/api/2/issue", json={"fields": {
            "project": {"key": self.project}, "summary": title, "description": body,
            "issuetype": {"name": "Task"}}}), 201)
        return str(made["key"]), State("new", False)

    def state(self, ref: str) -> State:
        issue = _checked(self.http.get(f"/rest/api/2/issue/{ref}",
                                       params={"fields": "status"}), 200)
        fields = issue.get("fields")
        status = fields.get("status") if isinstance(fields, dict) else None
        if not isinstance(status, dict):
            raise TrackerError("Jira's answer has no fields.status")
        category = status.get("statusCategory")
        done = isinstance(category, dict) and category.get("key") == "done"
        return State(str(status.get("name", "")), done)


def configured(settings: Settings) -> dict[str, Tracker]:
    """The trackers the settings name (both, one, or none)."""
    out: dict[str, Tracker] = {}
    if settings.github_issues_url and settings.github_issues_token \
            and settings.github_issues_repo:
        out["github"] = GitHubIssues(url=settings.github_issues_url,
                                     token=settings.github_issues_token.get_secret_value(),
                                     repo=settings.github_issues_repo)
    if settings.jira_url and settings.jira_token and settings.jira_project:
        out["jira"] = JiraIssues(url=settings.jira_url,
                                 token=settings.jira_token.get_secret_value(),
                                 project=settings.jira_project)
    return out
