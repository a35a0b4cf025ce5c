import test from 'ava';
import type { SyscallProfile } from '../../harness/results.js';
import { buildSyscallChart } from '../../reports/syscall-chart.js';

function profile(caseId: string, counts: [string, number][], violations: [string, number][] = []): SyscallProfile {
  return {
    caseId,
    syscalls: counts.map(([name, count]) => ({ name, count, errors: 0 })),
    violations: violations.map(([name, count]) => ({ name, count })),
  };
}

const thirty: [string, number][] = Array.from({ length: 30 }, (_, i) => [`call${String(i).padStart(2, '0')}`, 1000 - i * 30]);

test('no traced case, no chart', (t) => {
  t.is(buildSyscallChart('c', 'builtin', []), null);
});

test('counts add up over cases and the top N are drawn in order', (t) => {
  const chart = buildSyscallChart('c', 'builtin', [profile('a#0', [['read', 10], ['write', 5]]), profile('a#1', [['read', 7], ['close', 6]])], 2)!;
  t.deepEqual(chart.bars.map((b) => [b.name, b.count]), [['read', 17], ['close', 6]]);
  t.is(chart.totalCalls, 28);
  t.is(chart.distinctSyscalls, 3);
  t.deepEqual(chart.caseIds, ['a#0', 'a#1']);
});

test('a violation outside the top N is still drawn, marked and labelled', (t) => {
  const chart = buildSyscallChart('c', 'crun', [profile('s#3', [...thirty, ['ptrace', 1]], [['ptrace', 1]])], 15)!;
  t.is(chart.bars.length, 16);
  const last = chart.bars.at(-1)!;
  t.is(last.name, 'ptrace');
  t.true(last.violation);
  t.is(last.countLabel, '1 · policy violation');
  t.true(chart.bars.slice(0, 15).every((b) => !b.violation));
  t.regex(chart.description, /policy violations: ptrace\.$/);
  t.deepEqual(chart.violations, [{ caseId: 's#3', name: 'ptrace', count: 1 }]);
});

test('a violation the trace did not count is still drawn with its count', (t) => {
  const chart = buildSyscallChart('c', 'runc', [profile('s#0', [['read', 4]], [['keyctl', 2]])])!;
  const keyctl = chart.bars.find((b) => b.name === 'keyctl')!;
  t.is(keyctl.count, 2);
  t.is(keyctl.violationCount, 2);
});

test('bars fit the plot, the axis covers the largest count and tiny bars stay visible', (t) => {
  const chart = buildSyscallChart('c', 'builtin', [profile('a', [['read', 1030], ['execve', 1], ...thirty.slice(0, 5)])])!;
  for (const bar of chart.bars) {
    t.true(bar.barWidth >= 2 && bar.barWidth <= chart.plotWidth, bar.name);
    t.true(bar.y >= chart.plotTop && bar.y + chart.barHeight <= chart.plotBottom, bar.name);
    t.true(bar.countX + 8 * bar.countLabel.length <= chart.width + 1, bar.name);
  }
  const xs = chart.ticks.map((tick) => tick.x);
  t.deepEqual(xs, [...xs].sort((a, b) => a - b));
  t.is(chart.ticks[0]!.x, chart.plotX);
  t.is(chart.ticks.at(-1)!.x, chart.plotX + chart.plotWidth);
  t.true(Number(chart.ticks.at(-1)!.label.replace(/,/g, '')) >= 1030);
  t.is(chart.bars[0]!.barWidth > chart.plotWidth * 0.75, true, 'the largest bar uses most of the plot');
  t.is(chart.height, chart.plotBottom + 26);
});

test('long names are shortened for drawing but kept whole for the tooltip', (t) => {
  const long = 'a_very_long_syscall_name_from_somewhere';
  const chart = buildSyscallChart('c', 'builtin', [profile('a', [[long, 3]])])!;
  t.is(chart.bars[0]!.name, long);
  t.is(chart.bars[0]!.shownName.length, 24);
  t.true(chart.bars[0]!.shownName.endsWith('…'));
});
