"""Inference in chunks: seconds, user and system CPU time of one denoiser call on a big batch, whole or in chunks.

    python benchmarks/inference_chunks.py [--checkpoint mjdiff/assets/cifar10_mnist.pt] [--batch 300 900] [--chunks 0 32 64 128]
        [--repeats 3] [--threads 1] [--out outputs/inference_chunks]

`Precond` evaluates a CPU batch without autograd in chunks of at most `Precond.max_batch` (default 32): a big
batch's activations exceed glibc's largest `mmap` threshold (32 MB), and every layer's output is then paged in and
zeroed by the kernel — system time that a chunked call does not pay. Chunk 0 is the whole batch at once. Prints a
markdown table (also written to <out>/inference_chunks.md and .csv); time it on an idle machine.
"""
import argparse, csv, resource, time
from pathlib import Path
import torch
from mjdiff.checkpoint import load_model

def cpu_times():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime, r.ru_stime

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', default='mjdiff/assets/cifar10_mnist.pt')
    ap.add_argument('--batch', type=int, nargs='+', default=[300, 900])
    ap.add_argument('--chunks', type=int, nargs='+', default=[0, 32, 64, 128])
    ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--out', default='outputs/inference_chunks')
    a = ap.parse_args(argv)
    if min(a.batch) < 1 or min(a.chunks) < 0 or a.repeats < 1 or a.threads < 1:
        raise SystemExit("--batch, --repeats and --threads must be positive, --chunks ≥ 0")
    torch.set_num_threads(a.threads)
    D, g = load_model(a.checkpoint), torch.Generator().manual_seed(0)
    lay, rows = D.layout, []
    for B in a.batch:
        x = torch.randn(B, lay.channels, lay.size, lay.size, generator=g)
        sigma = torch.rand(B, lay.M, generator=g) * 5
        D.max_batch = None
        with torch.no_grad(): ref = D(x, sigma)                             # the whole batch in one call: the reference values
        for k in a.chunks:
            D.max_batch = k if 0 < k < B else None                          # 0, or a chunk ≥ the batch: the whole batch
            with torch.no_grad():
                out = D(x[:2], sigma[:2])                                   # warm-up
                (u0, s0), t0 = cpu_times(), time.perf_counter()
                for _ in range(a.repeats): out = D(x, sigma)
                wall, (u1, s1) = time.perf_counter() - t0, cpu_times()
            rows.append(dict(batch=B, chunk=k if 0 < k < B else 'whole', s_per_call=wall / a.repeats, user_s=(u1 - u0) / a.repeats,
                             sys_s=(s1 - s0) / a.repeats, ms_per_example=1e3 * wall / a.repeats / B,
                             max_abs_diff=float((out - ref).abs().max())))
            r = rows[-1]; print(f"batch {B:4d} chunk {str(r['chunk']):>5s}: {r['s_per_call']:.2f} s/call (user {r['user_s']:.2f}, sys {r['sys_s']:.2f})", flush=True)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    with open(out / 'inference_chunks.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    head = f"{a.checkpoint}, {a.threads} thread(s), {a.repeats} call(s) each; chunk 'whole' = one call on the whole batch\n\n"
    table = ['| batch | chunk | s / call | user s | system s | ms / example | max abs diff vs whole |', '|---|---|---|---|---|---|---|']
    table += [f"| {r['batch']} | {r['chunk']} | {r['s_per_call']:.2f} | {r['user_s']:.2f} | {r['sys_s']:.2f} | {r['ms_per_example']:.2f} | {r['max_abs_diff']:.1e} |" for r in rows]
    (out / 'inference_chunks.md').write_text(head + '\n'.join(table) + '\n')
    print('\n' + head + '\n'.join(table))

if __name__ == '__main__': main()
