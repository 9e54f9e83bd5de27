"""`main.py deploy ...`: set a deployment up without the window - create it, tick its checklist,
authorise it, add and test cameras, add, edit and remove watchlist entries.

Each action signs a user in first (--user NAME, the password asked on the terminal or read from
standard input with --password-stdin) and calls the same services as the set-up screen; a
camera's password is asked the same way (the next line of standard input), never an argument.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from console.errors import ConsoleError
from console.services.accounts.permissions import Permission

ACTIONS = ["list", "create", "checklist", "authorise", "camera-add", "camera-test", "entry-add", "entry-edit",
           "entry-remove", "outbound"]
ENTRY_FIELDS = ("record_number", "subject_name", "category", "legal_basis", "reason", "image_source", "image_date",
                "review_date")


def add_parser(sub, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    from console.cli.users import add_identity

    p = sub.add_parser("deploy", help="set a deployment up: create, checklist, authorise, cameras, watchlist entries",
                       description=__doc__.split("\n\n")[1].replace("\n", " "))
    add_common(p)
    add_identity(p)
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("target", nargs="?", type=int,
                   help="the deployment (checklist, authorise, camera-add, entry-add), camera (camera-test) or "
                        "entry (entry-edit, entry-remove)")
    for flag in ("name", "location", "rationale", "legal-basis", "dpia", "policy", "starts", "ends", "note", "source",
                 "camera-user", "amendment", "remove-reason"):
        p.add_argument(f"--{flag}", default="")
    p.add_argument("--webhook", default=None, help="outbound: the https:// URL confirmed alerts are posted to")
    p.add_argument("--jsonl", default=None, help="outbound: a JSON-lines file confirmed alerts are appended to")
    p.add_argument("--new-secret", action="store_true", help="outbound: sign the webhook's posts with a new key")
    p.add_argument("--mqtt", default=None, help="outbound: the mqtts:// broker confirmed alerts are published to")
    p.add_argument("--mqtt-topic", default="", help="outbound: the topic prefix (default orc)")
    p.add_argument("--mqtt-user", default="", help="outbound: the broker's user name")
    p.add_argument("--mqtt-password-file", default="", help="outbound: a file (mode 0600) holding the broker's password")
    p.add_argument("--mqtt-ca", default="", help="outbound: the CA certificate that signed the broker's (PEM)")
    p.add_argument("--mqtt-events", default="confirmed", help="outbound: confirmed, or confirmed,delivery,outcome")
    p.add_argument("--threshold", type=float, default=None, help="create: default the model's calibrated floor")
    p.add_argument("--tick", action="append", default=[], help="checklist: an item to tick (repeatable)")
    p.add_argument("--out", type=Path, default=None, help="camera-test: write the frame grabbed to this PNG")
    p.add_argument("--photo", type=Path, default=None, help="entry-add, entry-edit: a photo of the subject to enrol")
    p.add_argument("--under-18-justification", default="")
    for name in ENTRY_FIELDS:
        if name != "legal_basis":  # --legal-basis serves the deployment and the entry alike
            p.add_argument(f"--{name.replace('_', '-')}", dest=f"e_{name}", default=None)


def load_engine(args):
    from console.services.runtime import models

    return models.load(args.model_pack, [p.strip() for p in args.providers.split(",") if p.strip()])


def _need(args, name: str):
    if args.target is None:
        raise ConsoleError(f"deploy {args.action} needs the {name} id")
    return args.target


def cmd_deploy(args) -> int:
    from console.cli.users import signed_in
    from console.services.accounts.session import open_store
    from console.services.setup import cameras, deployment_setup, deployments, new_deployment, watchlist_entries

    store = open_store(args.db or args.data_dir)
    try:
        actor = signed_in(args, store)
        if args.action == "list":
            for d in new_deployment.listing(store, actor):
                print(f"{d['id']}\t{d['state']}\t{d['name']}\t{d['location']}\t{d['starts_at']} to {d['ends_at']}")
        elif args.action == "create":
            dep = new_deployment.create(store, actor, args.name, args.location, args.rationale, args.legal_basis,
                                          args.dpia, args.policy, args.starts, args.ends, args.threshold)
            print(f"deployment {dep} created as a draft; tick its checklist, then authorise it")
        elif args.action == "checklist":
            dep = _need(args, "deployment")
            for item in args.tick:
                deployment_setup.tick(store, actor, dep, item, args.note)
            for c in deployment_setup.checklist(store, dep):
                done = f"ticked by {c['ticked_by']} at {c['ticked_at']}" if c["ticked_by"] else "OPEN"
                print(f"{c['item']}\t{done}\t{c['text']}")
        elif args.action == "authorise":
            dep = _need(args, "deployment")
            deployments.authorise(store, actor, dep, args.note)
            print(f"deployment {dep} authorised; watchlist frozen as {deployments.get(store, dep)['watchlist_sha256']}")
        elif args.action == "camera-add":
            password = ""
            if args.camera_user:
                import getpass

                password = (sys.stdin.readline().rstrip("\n") if args.password_stdin
                            else getpass.getpass(f"Camera password for {args.camera_user}: "))
            cam = cameras.add(store, actor, _need(args, "deployment"), args.name, args.source, args.camera_user,
                              password)
            print(f"camera {cam} added; test it with: deploy camera-test {cam}")
        elif args.action == "camera-test":
            frame = cameras.test_camera(store, actor, _need(args, "camera"))
            print(f"camera {args.target}: a frame of {frame.shape[1]}x{frame.shape[0]} grabbed")
            if args.out:
                import cv2

                cv2.imwrite(str(args.out), frame)
                print(f"wrote {args.out}")
        elif args.action == "entry-add":
            _entry_add(args, store, actor, load_engine)
        elif args.action == "entry-edit":
            entry = _need(args, "entry")
            old = watchlist_entries.spec_of(store, actor, entry)
            spec = _spec(args, old)
            changed = watchlist_entries.edit_entry(store, actor, entry, spec, args.amendment)
            print(f"entry {entry}: {', '.join(changed) if changed else 'nothing'} changed")
            if args.photo:
                _photo(args, store, actor, load_engine, entry)
        elif args.action == "outbound":
            _outbound(args, store, actor)
        elif args.action == "entry-remove":
            watchlist_entries.remove_entry(store, actor, _need(args, "entry"), args.remove_reason, args.amendment)
            print(f"entry {args.target} removed (its row is kept, marked removed)")
        return 0
    finally:
        store.close()


def _outbound(args, store, actor) -> None:
    """Show, or (given --webhook/--jsonl/--mqtt) set, where a deployment's confirmed alerts go (an
    administrator's; docs/outbound.md; each setting names every target). A new signing key is kept in
    the installation's key folder."""
    from console.services.decisions import mqtt_out, outbound

    dep = _need(args, "deployment")
    if args.webhook is not None or args.jsonl is not None or args.mqtt is not None:
        mqtt = None
        if args.mqtt:
            mqtt = {"url": args.mqtt, "topic": args.mqtt_topic, "user": args.mqtt_user,
                    "password_file": args.mqtt_password_file, "ca_file": args.mqtt_ca, "events": args.mqtt_events}
        mqtt_out.configure(store, actor, dep, webhook_url=args.webhook or "", jsonl_path=args.jsonl or "",
                           secret="new" if args.new_secret else None, mqtt=mqtt,
                           secrets_dir=outbound.key_folder(store) if args.new_secret else None,
                           reason=args.note or "outbound events configured from the command line")
    else:
        actor.require(Permission.MANAGE_OUTBOUND, store)
    config = outbound.describe(outbound.config_of(store, dep))
    print(f"deployment {dep}: confirmed alerts go to " + (", ".join(f"{k}={v}" for k, v in sorted(config.items()))
                                                          or "nowhere (not configured)"))


def _spec(args, old=None):
    from dataclasses import asdict

    from console.services.setup import watchlist_entries

    values = asdict(old) if old else {}
    for name in ENTRY_FIELDS:
        given = (args.legal_basis or None) if name == "legal_basis" else getattr(args, f"e_{name}")
        if given is not None:
            values[name] = given
        elif old is None:
            raise ConsoleError(f"entry-add needs --{name.replace('_', '-')}")
    if args.under_18_justification:
        values.update(under_18=True, under_18_justification=args.under_18_justification)
    return watchlist_entries.EntrySpec(**values)


def _photo(args, store, actor, load_engine, entry: int) -> None:
    from console.media import read_image
    from console.services.setup import enrol

    result = enrol.enrol_photo(store, load_engine(args), actor, entry, read_image(args.photo), args.photo.name,
                               args.amendment)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"photo {args.photo.name} enrolled for entry {entry}")


def _entry_add(args, store, actor, load_engine) -> None:
    from console.media import read_image
    from console.services.setup import enrol

    if args.photo is None:
        raise ConsoleError("entry-add needs --photo (an entry with no photo matches nobody)")
    dep, spec = _need(args, "deployment"), _spec(args)
    image = read_image(args.photo)
    entry, result = enrol.add_entry_with_photo(store, load_engine(args), actor, dep, spec, image, args.photo.name,
                                               args.amendment)  # one transaction: no entry without its photo
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"photo {args.photo.name} enrolled for entry {entry}")
    print(f"entry {entry} added")
