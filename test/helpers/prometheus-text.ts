/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: anything a
 * Prometheus server would reject (or a sloppy exporter gets away with) throws, naming the line.
 * Written here because the npm parser (parse-prometheus-text-format) merges the series of a
 * labelled histogram, drops their _sum and _count and accepts any value.
 */

/** One sample line. */
export interface PromSample {
  /** The sample's name (`x_bucket`, `x_sum`… for a histogram `x`). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family: its HELP, TYPE and samples. */
export interface PromFamily {
  name: string;
  help: string | undefined;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** A float as Prometheus reads it (Go's ParseFloat: NaN, Inf and Infinity in any case). */
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|inf|infinity|nan)$/i;

/** Parses an exposition; every family in order of appearance, by name. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith('\n'))
    throw new Error('the exposition must end with a newline');
  const families = new Map<string, PromFamily>();
  /** Families whose samples are done: a family's samples must be contiguous. */
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: PromFamily | undefined;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    const fail = (why: string): never => {
      throw new Error(`${where}: ${why}`);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, keyword, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) fail('invalid metric name');
      const family = familyOf(name);
      if (keyword === 'HELP') {
        if (family.help !== undefined) fail('second HELP');
        family.help = unescape(rest, false, fail);
      } else {
        if (family.typeSet) fail('second TYPE');
        if (family.samples.length > 0) fail('TYPE after samples');
        if (!TYPES.has(rest)) fail(`unknown type '${rest}'`);
        family.type = rest as PromFamily['type'];
        family.typeSet = true;
      }
      return;
    }
    const sample = parseSample(line, fail);
    const family = familyOf(baseName(sample.name));
    if (family.type !== 'histogram' && family.type !== 'summary' && sample.name !== family.name)
      fail(`sample '${sample.name}' in family '${family.name}' of type ${family.type}`);
    if (family.type === 'counter' && !(sample.value >= 0)) fail('a counter must be ≥ 0');
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) fail('duplicate series');
    seen.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family);
    delete (family as { typeSet?: boolean }).typeSet;
  }
  return families;

  function familyOf(name: string): PromFamily & { typeSet?: boolean } {
    if (current?.name === name) return current;
    if (current) closed.add(current.name);
    if (closed.has(name)) throw new Error(`family '${name}' is not contiguous`);
    const family: PromFamily & { typeSet?: boolean } = {
      name,
      help: undefined,
      type: 'untyped',
      samples: [],
    };
    families.set(name, family);
    current = family;
    return family;
  }

  /** The family a sample belongs to: the current histogram or summary for its suffixed names. */
  function baseName(name: string): string {
    if (current && (current.type === 'histogram' || current.type === 'summary')) {
      const suffixes =
        current.type === 'histogram' ? ['_bucket', '_sum', '_count'] : ['_sum', '_count'];
      if (suffixes.some((s) => name === current!.name + s)) return current.name;
    }
    return name;
  }
}

function parseSample(line: string, fail: (why: string) => never): PromSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$/.exec(line);
  if (!m) return fail('not a sample line');
  const [, name, labelText, valueText] = m;
  if (!FLOAT.test(valueText)) fail(`invalid value '${valueText}'`);
  const special = valueText.toLowerCase().replace(/^\+/, '');
  const value =
    special === 'inf' || special === 'infinity'
      ? Infinity
      : special === '-inf' || special === '-infinity'
        ? -Infinity
        : special === 'nan' || special === '-nan'
          ? NaN
          : Number(valueText);
  return { name, labels: labelText ? parseLabels(labelText, fail) : {}, value };
}

function parseLabels(text: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 1;
  const end = text.length - 1;
  while (i < end) {
    const eq = text.indexOf('=', i);
    if (eq < 0) fail('label without value');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(`invalid label name '${name}'`);
    if (name in labels) fail(`duplicate label '${name}'`);
    if (text[eq + 1] !== '"') fail('label value not quoted');
    let j = eq + 2;
    let raw = '';
    while (j < end && text[j] !== '"') {
      if (text[j] === '\\') {
        raw += text.slice(j, j + 2);
        j += 2;
      } else raw += text[j++];
    }
    if (text[j] !== '"') fail('unterminated label value');
    labels[name] = unescape(raw, true, fail);
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i !== end) fail('expected , or } after a label');
  }
  return labels;
}

/** Undoes the format's escapes: \\ and \n, plus \" in label values. */
function unescape(raw: string, quotes: boolean, fail: (why: string) => never): string {
  return raw.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quotes) return '"';
    return fail(`invalid escape '\\${c}'`);
  });
}

/** Every series of a histogram: ascending bounds, cumulative counts, +Inf = _count, a _sum. */
function checkHistogram(family: PromFamily): void {
  const series = new Map<string, PromSample[]>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    if (s.name.endsWith('_bucket') && le === undefined)
      throw new Error(`${family.name}: a bucket without le`);
    const key = JSON.stringify(Object.entries(rest).sort());
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, samples] of series) {
    const what = `${family.name}${key}`;
    const buckets = samples.filter((s) => s.name.endsWith('_bucket'));
    const count = samples.find((s) => s.name.endsWith('_count'));
    const sum = samples.find((s) => s.name.endsWith('_sum'));
    if (!count || !sum) throw new Error(`${what}: _sum or _count missing`);
    const last = buckets[buckets.length - 1];
    if (last?.labels.le !== '+Inf') throw new Error(`${what}: the last bucket must be le="+Inf"`);
    if (last.value !== count.value) throw new Error(`${what}: +Inf bucket ≠ _count`);
    for (let i = 1; i < buckets.length; i++) {
      const [a, b] = [buckets[i - 1], buckets[i]];
      if (!(Number(a.labels.le) < (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le))))
        throw new Error(`${what}: bucket bounds not ascending`);
      if (b.value < a.value) throw new Error(`${what}: buckets not cumulative`);
    }
  }
}

/** The value of one series; throws if it is absent. */
export function sampleValue(
  families: Map<string, PromFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.get(name);
  const sample = family?.samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (!sample) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
  return sample.value;
}

/** One series of a histogram: bucket counts by bound, sum and count; throws if it is absent. */
export function histogramValue(
  families: Map<string, PromFamily>,
  name: string,
  labels: Record<string, string>,
): { buckets: Map<string, number>; sum: number; count: number } {
  const family = families.get(name);
  if (family?.type !== 'histogram') throw new Error(`no histogram ${name}`);
  const matches = (s: PromSample) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
    Object.keys(s.labels).filter((k) => k !== 'le').length === Object.keys(labels).length;
  const mine = family.samples.filter(matches);
  if (mine.length === 0) throw new Error(`no series ${name}${JSON.stringify(labels)}`);
  const buckets = new Map(
    mine.filter((s) => s.name === `${name}_bucket`).map((s) => [s.labels.le, s.value]),
  );
  const sum = mine.find((s) => s.name === `${name}_sum`)?.value ?? NaN;
  const count = mine.find((s) => s.name === `${name}_count`)?.value ?? NaN;
  return { buckets, sum, count };
}
