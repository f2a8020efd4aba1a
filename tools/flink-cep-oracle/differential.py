#!/usr/bin/env python3
"""Differential check of streamlab's CEP against real Flink: random events of several keys
through ./run (Flink 2.3) and through `streamlab run` (a scenario built the way
tests/it/cep.rs builds one for a recorded case), compared line by line.

Usage: tools/flink-cep-oracle/differential.py "KIND WITHIN SKIP OUT_OF_ORDERNESS [late]" [SEED]
(needs target/debug/streamlab and what ./run needs). `gen` made the random recorded cases of
tests/flink-golden-cep/cases/ (seed 1). On a difference it writes flink.txt, ours.txt and
events.csv to $TMPDIR (default /tmp) and prints the diff.
"""
import os, random, subprocess, sys
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TMP = os.environ.get('TMPDIR', '/tmp')
STEPS = {
 "times3": '{ begin = "a", where = "c0", times = 3 }',
 "times3c": '{ begin = "a", where = "c0", times = 3, consecutive = true }',
 "warm_hot": '{ begin = "a", where = "c0" }, { next = "b", where = "c1" }',
 "warm_then_hot": '{ begin = "a", where = "c0" }, { followed_by = "b", where = "c1" }',
 "any_hot": '{ begin = "a", where = "c0" }, { followed_by_any = "b", where = "c1" }',
 "oom_hot": '{ begin = "a", where = "c0", one_or_more = true }, { followed_by = "b", where = "c1" }',
 "oom_greedy_hot": '{ begin = "a", where = "c0", one_or_more = true, greedy = true }, { followed_by = "b", where = "c1" }',
 "oom_comb_hot": '{ begin = "a", where = "c0", one_or_more = true, allow_combinations = true }, { followed_by = "b", where = "c1" }',
 "oom_consec_hot": '{ begin = "a", where = "c0", one_or_more = true, consecutive = true }, { followed_by = "b", where = "c1" }',
 "more2_hot": '{ begin = "a", where = "c0", times_or_more = 2 }, { followed_by = "b", where = "c1" }',
 "oom_until": '{ begin = "a", where = "c0", one_or_more = true, until = "c1" }',
 "range_hot": '{ begin = "a", where = "c0", times = [2, 3] }, { followed_by = "b", where = "c1" }',
 "range0_hot": '{ begin = "a", where = "c0", times = [0, 2] }, { followed_by = "b", where = "c1" }',
 "opt_begin_hot": '{ begin = "a", where = "c0", optional = true }, { followed_by = "b", where = "c1" }',
 "warm_opt": '{ begin = "a", where = "c0" }, { followed_by = "b", where = "c1", optional = true }',
 "warm_opt_warm": '{ begin = "a", where = "c0" }, { followed_by = "b", where = "c1", optional = true }, { followed_by = "c", where = "c0" }',
 "not_next": '{ begin = "a", where = "c0" }, { not_next = "x", where = "c1" }',
 "not_next_warm": '{ begin = "a", where = "c0" }, { not_next = "x", where = "c1" }, { followed_by = "b", where = "c0" }',
 "not_fol_warm": '{ begin = "a", where = "c0" }, { not_followed_by = "x", where = "c1" }, { followed_by = "b", where = "c0" }',
 "not_fol_end": '{ begin = "a", where = "c0" }, { not_followed_by = "x", where = "c1" }',
}
def skip_toml(s):
    if ':' in s:
        k, n = s.split(':')
        return f'{k}({n})'
    return s
def scenario(args, events):
    kind, within, skip, ooo = args[:4]
    late = len(args) > 4 and args[4] == 'late'
    rows = ', '.join('{ k = "%s", c0 = %s, c1 = %s, ts = %s }' % tuple(e.split(',')) for e in events)
    side = 'late_output = "late_events"\n' if late else 'side_output = "timed_out"\n'
    sink2 = 'late_events' if late else 'timed_out'
    return (f'name = "golden"\nseed = 1\n[cluster]\ntask_managers = 1\nslots_per_task_manager = 1\n[job]\nparallelism = 1\n'
      f'[[source]]\nname = "events"\nkind = "inline"\nrate = 1\ntimestamp = "ts"\n'
      f'watermarks = {{ strategy = "bounded", max_out_of_orderness = "{ooo} ms", interval = "100 ms" }}\n'
      f'events = [{rows}]\n'
      f'[[operator]]\nname = "by_k"\nkind = "key_by"\ninput = "events"\nkey = "k"\n'
      f'[[operator]]\nname = "p"\nkind = "pattern"\ninput = "by_k"\npattern = [{STEPS[kind]}]\n'
      f'within = "{within} ms"\nskip = "{skip_toml(skip)}"\n{side}'
      f'[[sink]]\nname = "matches"\ninput = "p"\ncapture = 100000\n'
      f'[[sink]]\nname = "second"\ninput = "{sink2}"\ncapture = 100000\n')
def sink_rows(out, name):
    i = out.index(f'Sink `{name}`')
    lines = out[i:].split('\n')[2:]
    res = []
    for l in lines:
        if not l.startswith('    '): break
        res.append(l.strip().replace(', ', ','))
    return res
def streamlab(args, events, tag='x'):
    path = os.path.join(TMP, f'cep_differential_{tag}.toml')
    open(path, 'w').write(scenario(args, events))
    o = subprocess.run([f'{ROOT}/target/debug/streamlab', 'run', '--rows', '100000', path], capture_output=True, text=True)
    if o.returncode != 0:
        return 'ERROR ' + o.stderr
    late = len(args) > 4 and args[4] == 'late'
    lines = ['match,' + r for r in sink_rows(o.stdout, 'matches')]
    lines += [('late,' if late else 'timeout,') + r for r in sink_rows(o.stdout, 'second')]
    return '\n'.join(sorted(lines)) + '\n'
def oracle(args, events):
    o = subprocess.run([f'{ROOT}/tools/flink-cep-oracle/run'] + args, input='\n'.join(events) + '\n', capture_output=True, text=True)
    if o.returncode != 0:
        return 'ERROR ' + o.stderr[-2000:]
    lines = o.stdout.strip().split('\n') if o.stdout.strip() else []
    late = len(args) > 4 and args[4] == 'late'
    if late:
        lines = [l for l in lines if not l.startswith('timeout,')]
    return '\n'.join(sorted(lines)) + '\n'
def gen(seed, keys=8, n=120, p0=0.6, p1=0.4, disorder=False):
    r = random.Random(seed)
    ev = []
    t = 1000
    for j in range(n):
        t += r.choice([300, 700, 1000, 1000])
        k = f'k{r.randrange(keys)}'
        ts = t - (r.choice([0, 0, 0, 0, 1200, 2500]) if disorder else 0)
        ev.append(f'{k},{str(r.random() < p0).lower()},{str(r.random() < p1).lower()},{ts}')
    return ev
if __name__ == '__main__':
    args = sys.argv[1].split()
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    events = gen(seed, disorder=('late' in args))
    a, b = oracle(args, events), streamlab(args, events, args[0])
    if a == b:
        print('OK', ' '.join(args), len(a.splitlines()), 'lines')
    else:
        print('DIFF', ' '.join(args))
        paths = [os.path.join(TMP, n) for n in ('flink.txt', 'ours.txt', 'events.csv')]
        for p, text in zip(paths, (a, b, '\n'.join(events) + '\n')):
            with open(p, 'w') as f:
                f.write(text)
        subprocess.run(['diff', paths[0], paths[1]])
        sys.exit(1)
