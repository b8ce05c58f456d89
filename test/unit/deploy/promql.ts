/**
 * A promtool-style check of a PromQL expression, offline: the Prometheus UI's own parser
 * (@prometheus-io/lezer-promql) for the syntax, then what promtool would reject at load time or what
 * would silently never match — unknown metrics, unknown label names or values, rate() of a gauge or of
 * an instant vector, histogram_quantile without `le`, a range vector where an alert needs an instant one.
 */
import { parser } from '@prometheus-io/lezer-promql';
import { family, type KnownMetric } from './helpers.js';

/** Labels Prometheus adds at scrape time; always allowed in selectors. */
const TARGET_LABELS = new Set(['job', 'instance']);
/** Series Prometheus itself produces. */
const BUILTIN: Record<string, KnownMetric> = {
  up: { type: 'gauge', labels: new Map() },
};
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'resets']);
const RANGE_FUNCTIONS = new Set([
  ...COUNTER_FUNCTIONS,
  'delta',
  'idelta',
  'deriv',
  'changes',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'last_over_time',
  'quantile_over_time',
  'stddev_over_time',
  'present_over_time',
  'absent_over_time',
]);

export interface PromqlUse {
  metrics: Set<string>;
  problems: string[];
}

const unquote = (s: string): string => JSON.parse(s.startsWith("'") ? `"${s.slice(1, -1)}"` : s) as string;

export function checkPromql(expr: string, known: Map<string, KnownMetric>): PromqlUse {
  const tree = parser.parse(expr);
  const problems: string[] = [];
  const metrics = new Set<string>();
  const text = (n: SyntaxNode | null | undefined): string => (n ? expr.slice(n.from, n.to) : '');
  const lookup = (name: string): KnownMetric | undefined => known.get(name) ?? BUILTIN[name];

  tree.iterate({
    enter: (ref) => {
      const node = ref.node;
      if (node.type.isError) {
        problems.push(
          `syntax error at ${node.from}: …${expr.slice(Math.max(0, node.from - 20), node.from + 10)}…`,
        );
        return;
      }
      if (node.name === 'VectorSelector') {
        const name = text(node.getChild('Identifier'));
        if (!name) return;
        metrics.add(name);
        const metric = lookup(name);
        if (!metric) {
          problems.push(`unknown metric ${name}`);
          return;
        }
        for (const m of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
          const label = text(m.getChild('LabelName'));
          const op = text(m.getChild('MatchOp'));
          const value = unquote(text(m.getChild('StringLiteral')));
          if (TARGET_LABELS.has(label)) continue;
          const values = metric.labels.get(label);
          if (!values) {
            problems.push(`${name} has no label ${label}`);
            continue;
          }
          if (values.size === 0 || op === '!=' || op === '!~') continue;
          if (op === '=' && !values.has(value)) {
            problems.push(`${name}{${label}="${value}"} never matches (values: ${[...values].join(', ')})`);
          }
          if (op === '=~') {
            const re = new RegExp(`^(?:${value})$`);
            for (const alt of value.split('|')) {
              if (!/[.*+?()[\]{}\\^$]/.test(alt) && !values.has(alt)) {
                problems.push(`${name}{${label}=~"${value}"}: ${alt} is not a value of ${label}`);
              }
            }
            if (![...values].some((v) => re.test(v)))
              problems.push(`${name}{${label}=~"${value}"} never matches`);
          }
        }
      }
      if (node.name === 'FunctionCall') {
        const fn = text(node.getChild('FunctionIdentifier'));
        const args = node.getChild('FunctionCallBody')?.firstChild ?? null;
        checkFunction(fn, args);
      }
    },
  });

  function checkFunction(fn: string, firstArg: SyntaxNode | null): void {
    if (RANGE_FUNCTIONS.has(fn)) {
      // The argument (possibly after a scalar parameter for quantile_over_time) must be a range vector.
      let arg = firstArg;
      while (arg && arg.name !== 'MatrixSelector' && arg.name !== 'SubqueryExpr' && arg.nextSibling) {
        if (arg.name === 'NumberDurationLiteral' || arg.name === ',') arg = arg.nextSibling;
        else break;
      }
      if (!arg || (arg.name !== 'MatrixSelector' && arg.name !== 'SubqueryExpr')) {
        problems.push(`${fn}() needs a range vector, got ${arg ? text(arg) : 'nothing'}`);
        return;
      }
      if (COUNTER_FUNCTIONS.has(fn) && arg.name === 'MatrixSelector') {
        const name = text(arg.getChild('VectorSelector')?.getChild('Identifier'));
        const metric = lookup(name);
        if (metric && metric.type !== 'counter') problems.push(`${fn}() of ${name}, a ${metric.type}`);
      }
    }
    if (fn === 'histogram_quantile') {
      const body = text(firstArg?.parent);
      if (!/_bucket\b/.test(body)) problems.push('histogram_quantile() over no _bucket series');
      if (/\bby\s*\(/.test(body) && !/\bby\s*\([^)]*\ble\b/.test(body)) {
        problems.push('histogram_quantile() aggregates away the le label');
      }
    }
  }

  const top = tree.topNode.firstChild;
  if (top && (top.name === 'MatrixSelector' || top.name === 'StringLiteral')) {
    problems.push(`the expression is a ${top.name}, not an instant vector`);
  }
  return { metrics, problems };
}

/** Grafana's interval variables, replaced the way Grafana would before the query reaches Prometheus. */
export function grafanaToPromql(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h');
}

export { family };
