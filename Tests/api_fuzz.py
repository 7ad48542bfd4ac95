#!/usr/bin/env python3
"""Runs schemathesis against one module's OpenAPI document on a running server.

Usage: api_fuzz.py BASE_URL ACCESS_TOKEN SEED MODULE [EXCLUDED_PATH_REGEX]

EXCLUDED_PATH_REGEX leaves out operations that would end the fuzzer's own session or credentials (signing out,
changing the password): the rest of the run would then only see 401s.
"""
import subprocess
import sys


def main(base, token, seed, module, excluded=None):
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{base}/api/v1/{module}/openapi.json", "--url", base,
        "-H", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--phases", "coverage,fuzzing,stateful", "--max-examples", "30", "--workers", "1", "--seed", seed,
        # A sign-in hashes with scrypt at OWASP's cost (about 1.6 s in a debug build on an idle core). In CI other
        # suites run beside this one on 2 cores, and one request has taken over schemathesis's default 10 s, which
        # it reports as an error. A hung request still fails the run, after two minutes.
        "--request-timeout", "120", "--no-color",
    ]
    if excluded:
        command += ["--exclude-path-regex", excluded]
    result = subprocess.run(command, capture_output=True, text=True)
    output = result.stdout + result.stderr
    summary = output[output.find("SUMMARY"):] if "SUMMARY" in output else output[-4000:]
    print(summary, flush=True)
    if result.returncode != 0:
        print(output[-20000:], flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
