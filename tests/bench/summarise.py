#!/usr/bin/python3
"""Turn scripts/bench.sh's logs into a table, a data file and a plot script.

summarise.py OUTDIR

Reads OUTDIR/uintr-THREAD-APIC.log (the guest's "# bench NAME min= median=
max=" lines), OUTDIR/stock-THREAD-APIC.log (spin and ipi of the QEMU
without the series, run right after) and OUTDIR/linux.tsv (one line per Linux run: pair, which,
wall seconds, guest work seconds, checksum, QEMU CPU seconds), writes

  OUTDIR/table.md     the Markdown tables for docs/performance.md
  OUTDIR/plot.dat     medians and min/max per benchmark and mode
  OUTDIR/plot.gp      a gnuplot script that draws OUTDIR/bench.png

and prints table.md.  OUTDIR/count.tsv, when there, adds the runs under
valgrind (which, host instructions, guest boot and workload seconds, the
workload's result).  Exits 1 when a log lacks a figure, the Linux runs
disagree on the checksum or the counted runs on the guest's work: a
table with holes is not a result.
"""
import re
import statistics
import sys
from pathlib import Path

MODES = [("single", "xapic"), ("single", "x2"), ("multi", "xapic"), ("multi", "x2")]
NAMES = ["spin", "ipi", "uintr", "self", "fanin"]
STOCK_NAMES = ["spin", "ipi"]
LABEL = {
    "spin": "shared-memory spin round trip (floor)",
    "ipi": "kernel fixed-IPI round trip (IDT + EOI)",
    "uintr": "user-interrupt round trip (ring 3, handler + UIRET)",
    "self": "self-SENDUIPI to handler entry",
    "fanin": "2 senders -> 1 receiver, per interrupt",
}
LINE = re.compile(r"^# bench (\S+) min=(\d+) median=(\d+) max=(\d+)$")


def read_mode(path):
    figures = {}
    for line in path.read_text(errors="replace").splitlines():
        m = LINE.match(line.strip())
        if m:
            figures[m.group(1)] = tuple(int(x) for x in m.group(2, 3, 4))
    return figures


def fmt_ns(ns):
    return f"{ns / 1000:.2f}" if ns >= 1000 else f"{ns / 1000:.3f}"


def main():
    out = Path(sys.argv[1])
    errors = []
    data = {}
    stock = {}
    for thread, apic in MODES:
        log = out / f"uintr-{thread}-{apic}.log"
        figs = read_mode(log) if log.exists() else {}
        for name in NAMES + ["ratio-uintr-spin", "ratio-uintr-ipi"]:
            if name not in figs:
                errors.append(f"{log.name}: no '# bench {name}' line")
        data[(thread, apic)] = figs
        log = out / f"stock-{thread}-{apic}.log"
        figs = read_mode(log) if log.exists() else {}
        for name in STOCK_NAMES:
            if name not in figs:
                errors.append(f"{log.name}: no '# bench {name}' line")
        stock[(thread, apic)] = figs
    if errors:
        for e in errors:
            print(f"summarise: {e}", file=sys.stderr)
        return 1

    header = ["| benchmark | " + " | ".join(f"{t} {a}" for t, a in MODES) + " |",
              "|---|" + "---|" * len(MODES)]

    def figure_row(what, figs, name, fmt):
        """One table row: median (min-max) of NAME in every mode."""
        cells = []
        for mode in MODES:
            lo, med, hi = figs[mode][name]
            cells.append(f"**{fmt(med)}** ({fmt(lo)}-{fmt(hi)})")
        return f"| {what} | " + " | ".join(cells) + " |"

    def ratio(x100):
        return f"{x100 / 100:.2f}"

    lines = list(header)
    for name in NAMES:
        lines.append(figure_row(f"{LABEL[name]}, µs", data, name, fmt_ns))
    for name, what in (("ratio-uintr-spin", "user-interrupt / spin round trip"),
                       ("ratio-uintr-ipi", "user-interrupt / kernel IPI round trip")):
        lines.append(figure_row(what, data, name, ratio))
    lines.append("| 2 -> 1 throughput, interrupts/s (median) | " + " | ".join(
        f"{1e9 / data[m]['fanin'][1]:,.0f}" for m in MODES) + " |")

    # The QEMU without the series, each mode's run right after the series'
    # own: ratios of medians across the two runs.
    lines += ["", "The same QEMU without the series, run right after each of the runs above "
              "(the guest's spin and kernel-IPI phases, `uintr=0`); the ratios are of medians "
              "of the two runs:", ""] + header
    for name in STOCK_NAMES:
        lines.append(figure_row(f"{LABEL[name]}, µs, without the series", stock, name, fmt_ns))
    for num, den, what in (("spin", "spin", "spin round trip, with / without the series"),
                           ("ipi", "ipi", "kernel IPI round trip, with / without the series"),
                           ("uintr", "spin", "user-interrupt round trip / the spin round trip "
                            "without the series")):
        lines.append(f"| {what} | " + " | ".join(
            f"**{data[m][num][1] / stock[m][den][1]:.2f}**" for m in MODES) + " |")

    linux = out / "linux.tsv"
    if linux.exists():
        runs = [l.split("\t") for l in linux.read_text().splitlines() if l.strip()]
        sums = {r[4] for r in runs}
        if len(sums) != 1:
            print(f"summarise: the Linux runs disagree on the result: {sums}", file=sys.stderr)
            return 1
        pairs = {}
        for pair, which, wall, work, _, cpu in runs:
            pairs.setdefault(pair, {})[which] = (float(wall), float(work), float(cpu))
        complete = [p for p in pairs.values() if "patched" in p and "stock" in p]
        if not complete:
            print("summarise: no complete patched/stock pair of Linux runs", file=sys.stderr)
            return 1

        def row(what, idx):
            ratios = [p["patched"][idx] / p["stock"][idx] for p in complete]
            pat = [p["patched"][idx] for p in complete]
            sto = [p["stock"][idx] for p in complete]
            return (f"| {what} | {statistics.median(pat):.2f} | {statistics.median(sto):.2f} | "
                    f"**{statistics.median(ratios):.3f}** ({min(ratios):.3f}-{max(ratios):.3f}) |")

        lines += ["", f"Linux guest without user interrupts (1 vCPU), {len(complete)} alternating "
                  "pairs (patched, stock, patched, ...):", "",
                  "| figure | patched, s (median) | stock, s (median) | patched / stock, per pair |",
                  "|---|---|---|---|",
                  row("whole QEMU process: boot, workload, power-off (wall)", 0),
                  row("the same, CPU time of the QEMU process (user + system)", 2),
                  row("workload inside the guest (guest clock)", 1)]

    count = out / "count.tsv"
    if count.exists():
        runs = {}
        for l in count.read_text().splitlines():
            if l.strip():
                which, instr, boot, work, res = l.split("\t")
                runs[which] = (int(instr), boot, work, res)
        if set(runs) != {"patched", "stock"}:
            print(f"summarise: count.tsv has {sorted(runs)}, not patched and stock",
                  file=sys.stderr)
            return 1
        if runs["patched"][1:] != runs["stock"][1:]:
            print("summarise: under -icount the two builds' guests did not do the same "
                  f"work: {runs['patched'][1:]} against {runs['stock'][1:]}", file=sys.stderr)
            return 1
        pat, sto = runs["patched"][0], runs["stock"][0]
        lines += ["", "The same guest with an eighth of the workload (bench.small) under "
                  "`-icount shift=0,sleep=off` (its execution does not depend on the host's "
                  f"speed: guest boot {runs['stock'][1]} s and workload {runs['stock'][2]} s "
                  "of guest time in both), host instructions of the whole QEMU process "
                  "counted by callgrind:", "",
                  "| patched | stock | patched / stock |",
                  "|---|---|---|",
                  f"| {pat:,} | {sto:,} | **{pat / sto:.4f}** |"]

    table = "\n".join(lines) + "\n"
    (out / "table.md").write_text(table)

    with open(out / "plot.dat", "w") as f:
        f.write("# name " + " ".join(f"{t}-{a}_med {t}-{a}_min {t}-{a}_max" for t, a in MODES) + "\n")
        for name in NAMES:
            vals = []
            for mode in MODES:
                lo, med, hi = data[mode][name]
                vals += [med / 1000, lo / 1000, hi / 1000]
            f.write(name + " " + " ".join(f"{v:.4f}" for v in vals) + "\n")
    plots = []
    for i, (t, a) in enumerate(MODES):
        c = 2 + 3 * i
        title = f"thread={t}, {'x2APIC' if a == 'x2' else 'xAPIC'}"
        plots.append(f"'{out}/plot.dat' using {c}:{c + 1}:{c + 2} title '{title}'")
    (out / "plot.gp").write_text(f"""set terminal pngcairo size 1000,560 font 'sans,11'
set output '{out}/bench.png'
set title 'User interrupts under TCG: medians with min-max over repeats (one QEMU run per mode)'
set ylabel 'microseconds (log scale)'
set logscale y
set grid ytics
set key top left
set xrange [-0.6:4.6]
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set xtics ('spin RT' 0, 'kernel IPI RT' 1, 'user-interrupt RT' 2, 'self SENDUIPI' 3, '2->1 per interrupt' 4)
plot {', '.join(plots)}
""")
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
