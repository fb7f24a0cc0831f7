"""``symba amplitudes``: diagrams, amplitudes and squared amplitudes of one process."""

from __future__ import annotations

import json

from .engine import BACKENDS, compute_process
from .models import MODELS


def register(sub) -> None:
    p = sub.add_parser("amplitudes", help="amplitudes and squared amplitudes of one process")
    p.add_argument("process", help='e.g. "e- e+ -> mu- mu+"')
    p.add_argument("--theory", default="qed", choices=sorted(MODELS))
    p.add_argument("--backend", default="builtin", choices=BACKENDS)
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for FORM")
    p.add_argument("--massless", default="", help="comma-separated mass symbols set to zero, e.g. m_e,m_mu")
    p.set_defaults(handler=run)


def run(args) -> int:
    massless = [m.strip() for m in args.massless.split(",") if m.strip()]
    result = compute_process(args.process, args.theory, backend=args.backend, timeout=args.timeout, massless=massless)
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    print(f"process: {result.process}   theory: {result.theory}   backend: {result.backend}")
    print(f"diagrams: {len(result.diagrams)}")
    for d in result.diagrams:
        print(f"\n[{d.index}] propagators: {', '.join(d.propagators) or '(contact)'}")
        print(f"  amplitude:         {d.amplitude}")
        print(f"  squared amplitude: {d.squared_amplitude}")
    print(f"\nwhole process (with interference):\n  {result.squared_amplitude}")
    return 0
