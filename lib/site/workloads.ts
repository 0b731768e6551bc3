// The workloads page (SPEC 19): per model over the published window (72 hours), TTFT per
// input length, seconds per 1,000 input tokens with its fit, decode speed on long answers
// beside the 64-token one, the end-to-end time of a 500-token answer; then the parallel groups.
import type { GroupSummary } from '../runs/groups.ts';
import { medianOf as median } from '../store/kpis.ts';
import type { ModelWorkload } from '../runs/workloads.ts';
import { esc, num, page, table, td, when, type Row } from './html.ts';

export interface WorkloadPageInput {
  now: Date;
  workloads: ModelWorkload[];
  groups: GroupSummary[];
}

export function workloadsPage(data: WorkloadPageInput): string {
  const lengths = [...new Set(data.workloads.flatMap((m) => m.ttft_by_input.map((t) => t.input_tokens)))].sort((a, b) => a - b);
  const rows = data.workloads.map((m): Row => {
    const ttft = (n: number) => m.ttft_by_input.find((t) => t.input_tokens === n)?.ttft_p50_s ?? null;
    return {
      cells: [
        td(`${esc(m.provider)}/${esc(m.model_name)}`, `${m.provider}/${m.model_name}`, 'txt'),
        ...lengths.map((n) => td(num(ttft(n), 3, ' s'), ttft(n), 'n')),
        td(num(m.fit?.slope_s_per_1k, 4, ' s'), m.fit?.slope_s_per_1k ?? null, 'n'),
        td(num(m.fit?.r2, 2), m.fit?.r2 ?? null, 'n'),
        td(num(m.decode_64_p50, 1), m.decode_64_p50, 'n'),
        td(num(m.decode_long_p50, 1), m.decode_long_p50, 'n'),
        td(num(m.e2e_500_s, 2, ' s'), m.e2e_500_s, 'n'),
      ],
    };
  });
  const groupRows = data.groups.map((g): Row => {
    const slow = g.calls.map((c) => c.slowdown).filter((s): s is number => s !== null);
    return {
      cells: [
        td(when(g.started_at), g.started_at.toISOString(), 'txt'),
        td(`${esc(g.provider)}/${esc(g.model_name)}`, `${g.provider}/${g.model_name}`, 'txt'),
        td(`${g.recorded}/${g.size}`, g.recorded, 'n'),
        td(num(g.wall_s, 2, ' s'), g.wall_s, 'n'),
        td(num(g.aggregate_tokens_per_second, 1), g.aggregate_tokens_per_second, 'n'),
        td(num(median(slow), 2, '×'), median(slow), 'n'),
      ],
    };
  });
  const body = `
<h1>Workloads</h1>
<p class="mut">Over the last 72 hours, from the workload scenarios (long prompts, parallel calls: see <a href="scenarios.html">Scenarios</a>).
TTFT is the median per prompt length; <b>s per 1k input</b> is what each 1,000 input tokens add to it (a Theil–Sen line, with its R²: 1 is a perfect line);
decode speeds are medians of the published 64-token answers and of answers of 256 tokens or more; <b>500-token answer</b> is the published TTFT plus 500 tokens at the long-answer speed.
In the shell: <code>npm run runs -- workloads</code>.</p>
${table(
  'workload-list',
  [
    { label: 'model' },
    ...lengths.map((n) => ({ label: `TTFT ${n.toLocaleString('en')} in`, numeric: true })),
    { label: 's per 1k input', numeric: true },
    { label: 'R²', numeric: true },
    { label: 'decode 64 tok/s', numeric: true },
    { label: 'decode long tok/s', numeric: true },
    { label: '500-token answer', numeric: true },
  ],
  rows,
  'No workload rows in the last 72 hours: enable one with <code>npm run models -- scenario enable input-1k-v1</code>.',
)}
<h2>Parallel groups</h2>
<p class="mut">Calls started together on one model: the output of all over the group's wall time, and how much slower each call decoded than the model alone (median). In the shell: <code>npm run runs -- groups</code>.</p>
${table(
  'group-list',
  [{ label: 'started' }, { label: 'model' }, { label: 'calls', numeric: true }, { label: 'wall', numeric: true }, { label: 'aggregate tok/s', numeric: true }, { label: 'slowdown p50', numeric: true }],
  groupRows,
  'No parallel groups in the last 72 hours.',
)}`;
  return page({ title: 'Workloads', file: 'workloads.html', root: '', generatedAt: data.now, body });
}
