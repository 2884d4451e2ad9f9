"""`rnnkit hostile`: grade every corpus entry on its own and print the table."""
import os
import sys

from .build import Context, assemble, published_notebooks
from .corpus import applicable, published_ids
from .detect import hidden_material
from .measure import measure, preconditions, problems

def add_arguments(parser):
    from ...cli import known_assignment
    parser.add_argument("-o", "--out", help="also write the table (markdown) to this file")
    parser.add_argument("--assignment", action="append", type=known_assignment,
                        help="only these assignments (default: every published one)")
    parser.add_argument("--entry", action="append", help="only these entries")


def command(args):
    reason = preconditions()
    if reason:
        print(f"not running the hostile corpus: {reason}", file=sys.stderr)
        return 2
    rows, notes, failed, ctx = [], [], False, Context.create()
    header = ["assignment", "entry", "kind", "score without attack", "score with attack", "seconds",
              "leak found", "files changed", "processes left", "as expected"]
    try:
        for aid in args.assignment or published_ids():
            material, notebooks = hidden_material(aid), published_notebooks(aid)
            honest = {}
            for base in ("blank", "reference"):
                outcome = measure(assemble(aid, [], ctx, notebooks, base), ctx, material)
                honest[base] = outcome.results
                if outcome.error or outcome.leaks or outcome.changed or outcome.leftover:
                    notes.append(f"{aid} honest {base}: {outcome.error or outcome.leaks or outcome.changed or outcome.leftover}")
            for attack in applicable(aid):
                if args.entry and attack.name not in args.entry:
                    continue
                outcome = measure(assemble(aid, [attack], ctx, notebooks), ctx, material)
                broken = problems(outcome, attack, honest[attack.base])
                yes = lambda items: "yes" if items else "no"
                rows.append([aid, attack.name, attack.kind, f"{honest[attack.base]['score']:g}",
                             "error" if outcome.score is None else f"{outcome.score:g}", f"{outcome.seconds:.1f}",
                             yes(outcome.leaks), yes(outcome.changed), yes(outcome.leftover),
                             "yes" if not broken else ("known gap" if attack.gap else "NO")])
                failed |= bool(broken) and not attack.gap
                if broken:
                    more = f"; ... {len(broken) - 6} more" if len(broken) > 6 else ""
                    notes.append(f"{aid} {attack.name}: " + "; ".join(broken[:6]) + more)
                if outcome.unrelated:
                    notes.append(f"{aid} {attack.name}: not counted, edited meanwhile by someone else: {outcome.unrelated}")
                print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    finally:
        ctx.remove()
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    table = "\n".join(lines) + ("\n\n" + "\n".join(f"- {n}" for n in notes) if notes else "") + "\n"
    print(table)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(table)
    return 1 if failed else 0
