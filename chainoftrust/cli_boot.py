"""`chainoftrust boot`: measured and trusted boot, and signed boot policies (runs on impl).

Contract: docs/adr/0005-boot-contract.md ("CLI"). Like the rest of the front door it
holds no logic: the engine, the policy rules and the TPM driver are
`chainoftrust.impl.boot`, imported lazily. Exit codes: `boot run` 0 when the boot
completes, 3 when it halts, 1 on invalid input or a refused policy (or a TPM whose
PCRs differ), 2 when a file cannot be read (or written, or the TPM cannot be reached);
`boot policy` 0 accepted / verified / signed, 1 refused or invalid, 2 unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chainoftrust import cli as _cli

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_HALTED = 3


class _StopError(Exception):
    """Reported already; end the command with `code`."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


# ------------------------------------------------------------------------ helpers


def _fail(
    args: argparse.Namespace, code: str, message: str, field: str | None = None
) -> _StopError:
    obj = {"error": {"code": code, "operation": None, "message": message, "field": field}}
    _cli._report_error(args, obj)
    return _StopError(EXIT_FAILURE)


def _read(path: str) -> bytes:
    data = _cli._read_bytes(path)
    if data is None:
        raise _StopError(EXIT_USAGE)
    return data


def _document(args: argparse.Namespace, path: str, code: str, raw: bytes | None = None) -> Any:
    """The JSON document in `path` (or in `raw`, the bytes already read from it);
    unreadable: exit 2; not JSON: `code`, exit 1."""
    try:
        return _cli._load_json_document(_read(path) if raw is None else raw)
    except _cli._DocumentError as exc:
        raise _fail(args, code, f"{path}: {exc}") from exc


def _impl(args: argparse.Namespace, func: Any, *params: Any) -> Any:
    """func(*params); an ImplError is reported (exit 1)."""
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415

    try:
        return func(*params)
    except ImplError as err:
        _cli._report_error(args, _cli._error_object(err))
        raise _StopError(EXIT_FAILURE) from err


def _keys(args: argparse.Namespace) -> tuple[tuple[str, bytes], ...]:
    from chainoftrust.impl.boot import parse_trust_store  # noqa: PLC0415

    if args.keys is None:
        return ()
    return _impl(args, parse_trust_store, _document(args, args.keys, "INVALID_POLICY"))  # type: ignore[no-any-return]


def _policy(args: argparse.Namespace, path: str, raw: bytes | None = None) -> Any:
    from chainoftrust.impl.boot import parse_signed_policy  # noqa: PLC0415

    return _impl(args, parse_signed_policy, _document(args, path, "INVALID_POLICY", raw))


def _now(args: argparse.Namespace) -> datetime:
    return args.now if args.now is not None else datetime.now(UTC)


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        sys.stderr.write(f"chainoftrust: cannot write {path}: {exc.strerror}\n")
        raise _StopError(EXIT_USAGE) from exc


def _run(func: Any, args: argparse.Namespace) -> int:
    try:
        code: int = func(args)
    except _StopError as stop:
        return stop.code
    return code


def _rfc3339(text: str) -> datetime:
    from chainoftrust.impl.boot import parse_rfc3339  # noqa: PLC0415
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415

    try:
        return parse_rfc3339(text, "now")
    except ImplError as err:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DDTHH:MM:SSZ, got {text!r}") from err


def _address(text: str) -> str:
    from chainoftrust.impl.boot import parse_tpm_address  # noqa: PLC0415
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415

    try:
        parse_tpm_address(text)
    except ImplError as err:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}") from err
    return text


# ------------------------------------------------------------------------ boot run


def _boot_run(args: argparse.Namespace) -> int:
    from chainoftrust.impl.boot import (  # noqa: PLC0415
        PolicyStore,
        load_chain,
        run_boot,
        verify_boot_on_tpm,
    )
    from chainoftrust.impl.errors import ErrorCode, ImplError  # noqa: PLC0415

    document = _document(args, args.chain, "INVALID_CHAIN")
    try:
        chain = load_chain(document, Path(args.chain).parent)
    except ImplError as err:
        _cli._report_error(args, _cli._error_object(err))
        return EXIT_USAGE if err.code == ErrorCode.LAYER_UNREADABLE else EXIT_FAILURE
    mode = args.mode or ("trusted" if args.policy is not None else "measured")
    now = _now(args)
    policy = None
    if mode == "trusted":
        if args.policy is None:
            raise _fail(args, "NO_POLICY", "trusted boot needs --policy and --keys", "policy")
        candidate = _policy(args, args.policy)
        store = PolicyStore(_keys(args))
        outcome = store.update(candidate, now)
        if not outcome.accepted:
            hint = "" if args.keys is not None else " (no --keys: the trust store is empty)"
            raise _fail(args, str(outcome.code), f"the policy was refused{hint}", "policy")
        policy = store.installed
    elif args.policy is not None:
        sys.stderr.write("chainoftrust: measured mode: --policy is ignored\n")
    result = _impl(args, run_boot, chain, policy, mode, now)
    if args.eventlog is not None:
        _write(args.eventlog, result.event_log)
    if args.tpm is not None:
        try:
            _impl(args, verify_boot_on_tpm, args.tpm, result)
        except OSError as exc:
            sys.stderr.write(f"chainoftrust: cannot talk to the TPM at {args.tpm}: {exc}\n")
            return EXIT_USAGE
    if args.json:
        _cli._print_json(result.to_json())
    else:
        sys.stdout.write(format_boot(result, tpm=args.tpm))
    return EXIT_OK if result.completed else EXIT_HALTED


def _layer_events(event_log: bytes) -> list[tuple[int, list[tuple[str, str]]]]:
    """Per measured layer, its PCR and (bank, hex digest) pairs, read back from the log."""
    from chainoftrust.impl.eventlog import parse_event_log  # noqa: PLC0415
    from chainoftrust.impl.hashes import hash_alg_name  # noqa: PLC0415

    log = parse_event_log(event_log)
    return [(e.pcr, [(hash_alg_name(a), d.hex()) for a, d in e.digests]) for e in log.events[1:]]


def format_boot(result: Any, tpm: str | None = None) -> str:
    """The human report of a BootResult: one line per layer (name, PCR, status, digests),
    the outcome, the claims and what is not covered."""
    out = result.to_json()
    lines = [f"{out['mode']} boot"]
    events = _layer_events(result.event_log)
    names = list(out["measured"]) + list(result.not_covered[:-1])
    halt = out["halt"]
    for index, name in enumerate(names):
        if index >= len(events):
            lines.append(f"  {index:4d} {name:24s}        not measured")
            continue
        if out["mode"] == "measured":
            status = "measured"
        elif halt is not None and halt["index"] == index:
            status = f"HALT {halt['code']}"
        else:
            status = "MATCH"
        pcr, digests = events[index]
        (bank, digest), *rest = digests
        lines.append(f"  {index:4d} {name:24s} PCR {pcr:2d} {status:8s} {bank}:{digest}")
        lines.extend(f"  {'':4s} {'':24s} {'':6s} {'':8s} {b}:{d}" for b, d in rest)
    lines.append(_outcome_line(out))
    if tpm is not None:
        lines.append(f"TPM at {tpm}: every PCR of every bank equals the computed value")
    lines.append("claims:")
    lines.extend(f"  - {_claim_text(claim)}" for claim in out["claims"])
    lines.append("not covered:")
    lines.extend(f"  - {item}" for item in out["notCovered"])
    return "\n".join(lines) + "\n"


def _outcome_line(out: dict[str, Any]) -> str:
    halt = out["halt"]
    if halt is None:
        return f"completed: {len(out['ran'])} layer(s) ran"
    expected = json.dumps(halt["expected"], sort_keys=True)
    return (
        f"halted at layer {halt['index']} ({halt['layer']}, PCR {halt['pcr']}): {halt['code']}"
        f"; policy {halt['policy']['name']} version {halt['policy']['version']} signed by "
        f"{halt['policy']['signer']}; expected {expected}"
    )


def _claim_text(claim: dict[str, Any]) -> str:
    kind = claim["kind"]
    if kind == "layers_matched":
        return (
            f"layers {', '.join(claim['layers'])} matched the reference values of policy "
            f"{claim['policy']} version {claim['version']} signed by {claim['signer']} "
            f"in bank(s) {', '.join(claim['banks'])} at {claim['at']}"
        )
    if kind == "layers_measured":
        return (
            f"layers {', '.join(claim['layers'])} were measured in bank(s) "
            f"{', '.join(claim['banks'])} (not checked against any policy)"
        )
    values = ", ".join(f"{i}={v}" for i, v in claim["values"].items())
    return f"{claim['bank']} PCRs after the boot: {values}"


# ------------------------------------------------------------------------ boot policy


def _policy_sign(args: argparse.Namespace) -> int:
    from chainoftrust.impl.boot import (  # noqa: PLC0415
        key_id,
        parse_signed_policy,
        policy_signing_bytes,
        validate_policy_body,
        verify_policy_signature,
    )

    body = _document(args, args.body, "INVALID_POLICY")
    _impl(args, validate_policy_body, body)
    key_pem = _read(args.key)
    public, sig = _sign(args, key_pem, policy_signing_bytes(body))
    signed = {"policy": body, "signature": {"alg": args.alg, "key": public.hex(), "sig": sig.hex()}}
    _impl(args, verify_policy_signature, _impl(args, parse_signed_policy, signed))
    _write(args.out, (json.dumps(signed, indent=2) + "\n").encode("utf-8"))
    sys.stdout.write(
        f"signed policy {body['name']} version {body['version']} with "
        f"{key_id(args.alg, public)}: {args.out}\n"
    )
    return EXIT_OK


def _sign(args: argparse.Namespace, key_pem: bytes, message: bytes) -> tuple[bytes, bytes]:
    """(public key bytes, signature) of `message` with the PEM private key."""
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.utils import (  # noqa: PLC0415
        decode_dss_signature,
    )

    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise _fail(args, "INVALID_KEY", f"{args.key}: not an unencrypted PEM private key") from exc
    if args.alg == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return public, key.sign(message)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        if args.alg == "ecdsa-p256-sha256":
            public = key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
            return public, r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise _fail(args, "UNSUPPORTED_KEY", f"{args.key} is not a key for {args.alg}", "key")


def _policy_summary(policy: Any) -> dict[str, Any]:
    from chainoftrust.impl.boot import format_rfc3339  # noqa: PLC0415

    return {
        "name": policy.name,
        "version": policy.version,
        "signer": policy.signer,
        "expires": format_rfc3339(policy.expires),
    }


def _report_update(args: argparse.Namespace, result: Any, policy: Any, verb: str) -> int:
    summary = _policy_summary(policy)
    if args.json:
        _cli._print_json({**result.to_json(), "policy": summary})
    elif result.accepted:
        sys.stdout.write(
            f"{verb}: policy {summary['name']} version {summary['version']}, signed by "
            f"{summary['signer']} (an authorised key), expires {summary['expires']}\n"
        )
    else:
        sys.stdout.write(
            f"refused: {result.code} (policy {summary['name']} version {summary['version']}, "
            f"signed by {summary['signer']})\n"
        )
    return EXIT_OK if result.accepted else EXIT_FAILURE


def _policy_verify(args: argparse.Namespace) -> int:
    from chainoftrust.impl.boot import PolicyStore  # noqa: PLC0415

    policy = _policy(args, args.signed)
    result = PolicyStore(_keys(args)).update(policy, _now(args))
    return _report_update(args, result, policy, "verified")


def _policy_update(args: argparse.Namespace) -> int:
    from chainoftrust.impl.boot import PolicyStore  # noqa: PLC0415

    installed = _policy(args, args.installed)
    raw = _read(args.candidate)  # read once: the bytes written to --out are the ones checked
    candidate = _policy(args, args.candidate, raw)
    result = PolicyStore(_keys(args), installed=installed).update(candidate, _now(args))
    if result.accepted and args.out is not None:
        _write(args.out, raw)
    return _report_update(args, result, candidate, "accepted")


# ------------------------------------------------------------------------ parsers


def add_boot_parser(sub: Any) -> None:
    """Add `boot run` and `boot policy sign|verify|update` to the top-level subparsers."""
    boot = sub.add_parser(
        "boot",
        help="measured and trusted boot of a chain of layers; signed policies (runs on impl)",
        description=(
            "Measure a chain of layers into PCRs with a crypto-agile event log; in trusted "
            "mode check each layer against a signed policy and halt before the first one "
            "that does not match."
        ),
    )
    boot_sub = boot.add_subparsers(dest="boot_command", metavar="SUBCOMMAND")
    boot_sub.required = True
    run = boot_sub.add_parser(
        "run",
        help="boot a chain (measured, or trusted against a signed policy)",
        description=(
            "Exit 0 when the boot completes, 3 when it halts, 1 on invalid input, a "
            "refused policy or a TPM whose PCRs differ, 2 when a file cannot be read."
        ),
    )
    run.add_argument("chain", metavar="CHAIN.json")
    run.add_argument("--policy", metavar="POLICY.json", help="the signed policy")
    run.add_argument("--keys", metavar="KEYS.json", help="the authorised policy signers")
    run.add_argument(
        "--mode",
        choices=("measured", "trusted"),
        help="default: trusted with --policy, else measured",
    )
    _add_now(run)
    run.add_argument(
        "--tpm",
        type=_address,
        metavar="HOST:PORT",
        help="also extend a running `swtpm socket --tpm2` (data port) and compare its PCRs",
    )
    run.add_argument("--eventlog", metavar="OUT", help="write the event log (binary) here")
    run.add_argument("--json", action="store_true", help="print JSON for machines")
    run.set_defaults(func=lambda a: _run(_boot_run, a))
    _add_policy_parser(boot_sub)


def _add_now(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--now",
        type=_rfc3339,
        metavar="RFC3339",
        help="the time to judge expiry at, YYYY-MM-DDTHH:MM:SSZ (default: the clock)",
    )


def _add_policy_parser(boot_sub: Any) -> None:
    policy = boot_sub.add_parser("policy", help="sign, verify and update boot policies")
    pol_sub = policy.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    pol_sub.required = True
    sign = pol_sub.add_parser("sign", help="sign a policy body with a PEM private key")
    sign.add_argument("body", metavar="POLICY_BODY.json")
    sign.add_argument("--key", required=True, metavar="KEY", help="PEM private key")
    sign.add_argument("--alg", required=True, choices=("ed25519", "ecdsa-p256-sha256"))
    sign.add_argument("--out", required=True, metavar="SIGNED.json")
    sign.set_defaults(func=lambda a: _run(_policy_sign, a))
    verify = pol_sub.add_parser(
        "verify",
        help="check signer, signature and expiry (exit 0 accepted, 1 refused)",
    )
    verify.add_argument("signed", metavar="SIGNED.json")
    verify.add_argument("--keys", required=True, metavar="KEYS.json")
    _add_now(verify)
    verify.add_argument("--json", action="store_true", help="print JSON for machines")
    verify.set_defaults(func=lambda a: _run(_policy_verify, a))
    update = pol_sub.add_parser(
        "update",
        help="may the candidate replace the installed policy (exit 0 accepted, 1 refused)",
    )
    update.add_argument("--installed", required=True, metavar="SIGNED.json")
    update.add_argument("--candidate", required=True, metavar="SIGNED.json")
    update.add_argument("--keys", required=True, metavar="KEYS.json")
    _add_now(update)
    update.add_argument("--out", metavar="FILE", help="write the accepted candidate here")
    update.add_argument("--json", action="store_true", help="print JSON for machines")
    update.set_defaults(func=lambda a: _run(_policy_update, a))
