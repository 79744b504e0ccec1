#!/usr/bin/env python3
"""A stand-in CMS for the publishing example, with bad minutes.

Implements every operation of examples/publishing/cms.json under /api/v2, on
the connector's default port 8098 (or --port; the example reaches it through
CMS_URL):

  POST   /api/v2/drafts                 create_draft -> Draft (201)
  DELETE /api/v2/drafts/{draft}         delete_draft -> {id, deleted}
  POST   /api/v2/drafts/{draft}/publish publish      -> Post (201)
  POST   /api/v2/posts/{post}/unpublish unpublish    -> {id, unpublished}

create_draft and publish are the flaky ones: with --fail-first N, the first N
attempts of each request (same Idempotency-Key) answer 503, so a workflow
without `retry` would fail there. Clients send `Authorization: Bearer
$CMS_TOKEN`. Auth, idempotency, the record file and the options: stand_in.py.

  CMS_TOKEN=secret python3 examples/services/cms.py --fail-first 2 --record cms.jsonl
"""

import sys

from stand_in import HttpError, Route, Service, lookup, now_rfc3339, serve

DRAFTS = {}   # id -> Draft
CREATED = [0]  # drafts ever created: ids are never reused after a delete
POSTS = {}    # id -> Post
BLOG_URL = "https://blog.example.com"


def create_draft(params, body):
    for field in ("title", "body", "author", "slug"):
        if not isinstance(body.get(field), str):
            raise HttpError(400, f"'{field}' must be a string")
    CREATED[0] += 1
    draft_id = "d_%d" % CREATED[0]
    DRAFTS[draft_id] = {"id": draft_id, "slug": body["slug"], "title": body["title"],
                        "preview_url": f"{BLOG_URL}/preview/{draft_id}",
                        "word_count": len(body["body"].split())}
    return 201, DRAFTS[draft_id]


def draft(params):
    return lookup(DRAFTS, params["draft"], "draft")


def delete_draft(params, body):
    draft(params)
    del DRAFTS[params["draft"]]
    return 200, {"id": params["draft"], "deleted": True}


def publish(params, body):
    if not body.get("reviewed_by"):
        raise HttpError(400, "a post needs a reviewer")
    post_id = "p_%d" % (len(POSTS) + 1)
    POSTS[post_id] = {"id": post_id, "url": f"{BLOG_URL}/{draft(params)['slug']}",
                      "published_at": now_rfc3339(), "draft": params["draft"],
                      "channel": body.get("channel", "web"), "live": True}
    return 201, POSTS[post_id]


def unpublish(params, body):
    post = lookup(POSTS, params["post"], "post")
    post["live"] = False
    return 200, {"id": post["id"], "unpublished": True}


CMS = Service("cms", "CMS_TOKEN", "/api/v2", [
    Route("POST", "/drafts", create_draft, flaky=True),
    Route("DELETE", "/drafts/{draft}", delete_draft),
    Route("POST", "/drafts/{draft}/publish", publish, flaky=True),
    Route("POST", "/posts/{post}/unpublish", unpublish),
])

if __name__ == "__main__":
    sys.exit(serve(CMS, default_port=8098))
