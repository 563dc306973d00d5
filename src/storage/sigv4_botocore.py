"""Reference SigV4 signatures from Debian's python3-botocore, for sigv4_botocore_test.cc.

Reads one JSON document on stdin:
  {"access_key", "secret_key", "region", "time": unix seconds,
   "cases": [{"kind": "header" | "presign", "method", "scheme", "host",
              "path": raw (unencoded) path, "params": {raw name: raw value},
              "headers": {name: value}, "body": text, "expires": seconds}]}
and writes {"results": [{"url", "authorization"}]}: the URL botocore signed (built here
with urllib's quoting, independently of the C++ code) and, for header signing, the
Authorization header. Run with /usr/bin/python3 (Debian's botocore).
"""
import datetime
import json
import sys
import types
import urllib.parse

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    doc = json.load(sys.stdin)
    fixed = datetime.datetime.utcfromtimestamp(doc["time"])

    class FixedDateTime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    botocore.auth.datetime = types.SimpleNamespace(datetime=FixedDateTime)
    credentials = Credentials(doc["access_key"], doc["secret_key"])
    results = []
    for case in doc["cases"]:
        path = urllib.parse.quote(case["path"], safe="/~")
        url = f"{case['scheme']}://{case['host']}{path}"
        if case["kind"] == "presign":
            request = AWSRequest(method=case["method"], url=url)
            botocore.auth.S3SigV4QueryAuth(
                credentials, "s3", doc["region"], expires=case["expires"]
            ).add_auth(request)
            results.append({"url": request.url, "authorization": ""})
            continue
        request = AWSRequest(
            method=case["method"],
            url=url,
            headers=dict(case.get("headers", {})),
            data=case.get("body", "").encode(),
            params=dict(case.get("params", {})),
        )
        botocore.auth.S3SigV4Auth(credentials, "s3", doc["region"]).add_auth(request)
        results.append({"url": url, "authorization": request.headers["Authorization"]})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
