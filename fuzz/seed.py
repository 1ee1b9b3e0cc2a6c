#!/usr/bin/env python3
"""Seeds every fuzz target's corpus from the fixtures the tests already use.

Writes fuzz/corpus/<target>/seed-<name> (existing corpus entries are kept, so a grown corpus
survives reseeding) in each target's input format (see fuzz/src/lib.rs):

- request targets: `Name: value` header lines, an empty line, the body;
- attribute targets: `name: value` attribute lines, an empty line, the message data;
- payload: one byte (the type's index in events::types::OURS), then the payload;
- replay: `--type T` / `--header N:V` lines, an empty line, the file;
- manifest: the manifest text; oidc_token: the Authorization header value.

Sources: events/fixtures/delivery (HTTP requests), events/fixtures/payloads (one per type),
infra-bootstrap/manifests, and fuzz/seeds/<target>/ (hand-made seeds, e.g. signed tokens).
"""

import base64
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
CORPUS = Path(sys.argv[1]) if len(sys.argv) > 1 else FUZZ / "corpus"

# Which delivery fixtures seed which request-shaped target, by file-name prefix. Every
# fixture seeds delivery_any; error-* fixtures seed every request target.
DELIVERY_TARGETS = {
    "push_wrapped": ("push-wrapped", "scheduler-pubsub-target", "eventarc-structured"),
    "push_unwrapped": ("push-unwrapped",),
    "cloudevent_binary": ("cloudevent-binary", "eventarc-binary", "error-binary"),
    "cloudevent_structured": ("cloudevent-structured", "eventarc-structured"),
    "scheduler": ("scheduler-http", "error-scheduler"),
}
BODY_ONLY = {"push_wrapped", "cloudevent_structured"}


def write(target, name, data):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"seed-{name}").write_bytes(data)


def request(fixture):
    req = fixture["request"]
    headers = req.get("headers", {})
    if "body_text" in req:
        body = req["body_text"].encode()
    else:
        body = json.dumps(req.get("body"), separators=(",", ":")).encode()
    return headers, body


def framed(lines, body):
    head = "".join(f"{k}: {v}\n" for k, v in lines.items()).encode()
    return head + b"\n" + body


def our_types():
    """events::types::OURS, in order: the payload target selects a type by index."""
    text = (ROOT / "events/src/types.rs").read_text()
    consts = dict(re.findall(r'pub const (\w+): &str =\s*"([^"]+)";', text))
    ours = re.search(r"pub const OURS: &\[&str\] = &\[(.*?)\];", text, re.S).group(1)
    return [consts[name] for name in re.findall(r"\w+", ours)]


def main():
    deliveries = sorted((ROOT / "events/fixtures/delivery").glob("*.json"))
    for path in deliveries:
        name = path.stem
        headers, body = request(json.loads(path.read_text()))
        write("delivery_any", name, framed(headers, body))
        for target, prefixes in DELIVERY_TARGETS.items():
            if name.startswith(prefixes) or name.startswith("error-"):
                write(target, name, body if target in BODY_ONLY else framed(headers, body))
        write("replay", name, framed({}, body))
        # Google's notifications: their attributes and data as budget-guard and
        # secret-rotator receive them.
        try:
            message = json.loads(body)["message"]
            attributes = message.get("attributes") or {}
            data = base64.b64decode(message.get("data", ""))
        except (ValueError, KeyError, TypeError):
            continue
        if "billingAccountId" in attributes:
            write("budget_notification", name, framed(attributes, data))
        if "eventType" in attributes:
            write("secret_manager_notification", name, framed(attributes, data))

    for index, ty in enumerate(our_types()):
        payload = (ROOT / f"events/fixtures/payloads/{ty}.json").read_bytes()
        write("payload", ty, bytes([index]) + payload)
        write("replay", f"type-{ty}", f"--type {ty}\n\n".encode() + payload)
        # As a bare Pub/Sub message would carry it, for the binary-mode replay path.
        write(
            "replay",
            f"header-{ty}",
            f"--header ce-type:{ty}\n--header ce-id:1\n--header ce-source:/s\n\n".encode()
            + payload,
        )

    for manifest in sorted((ROOT / "infra-bootstrap/manifests").glob("*.toml")):
        write("manifest", manifest.stem, manifest.read_bytes())

    for directory in sorted((FUZZ / "seeds").iterdir()):
        for seed in sorted(directory.iterdir()):
            write(directory.name, seed.name, seed.read_bytes())

    for directory in sorted(CORPUS.iterdir()):
        print(f"{directory.name}: {len(list(directory.iterdir()))} inputs")


if __name__ == "__main__":
    main()
