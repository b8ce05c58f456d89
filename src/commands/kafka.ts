/**
 * `cachetail kafka init [--config FILE] [--json]`: creates the invalidation topic and the applied topic
 * with the stated settings (`kafka.topics`, docs/kafka.md), from the `kafka` section of the tailer's
 * config file and/or CACHETAIL_KAFKA_* env vars. Idempotent: an existing topic is left alone and compared.
 *
 * Exit codes: 0 created or already as stated, 1 an existing topic differs from the stated settings
 * (printed; nothing changed), 2 could not run (usage, config, brokers unreachable).
 */
import { z } from 'zod';
import { loadConfig } from '../config/load.js';
import { CachetailError, errorMessage } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { createKafkaClient, kafkaErrorCode, kafkaErrorMessage } from '../sinks/kafka/client.js';
import { kafkaConfigSchema, kafkaEnvPaths } from '../sinks/kafka/config.js';
import {
  describeSpec,
  ensureTopics,
  kafkajsTopicAdmin,
  topicSpecs,
  type TopicOutcome,
} from '../sinks/kafka/topics.js';
import { parseCommandArgs, usageErrorLine } from './usage.js';

export const KAFKA_HELP = `usage: cachetail kafka init [--config FILE] [--json]

Creates the invalidation topic and the applied topic with the stated settings (kafka.topics,
docs/kafka.md), from the kafka section of the tailer's config and/or CACHETAIL_KAFKA_* variables.
Idempotent: an existing topic is left alone and compared with the stated settings.

  -c, --config FILE   the tailer's JSON config file (only its kafka section is read)
  --json              the outcome (or the error) as JSON on stdout
  -h, --help          this text

Exit status: 0 created or already as stated, 1 an existing topic differs (printed; nothing changed),
2 could not run (usage, config, brokers unreachable).
`;

export interface KafkaIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

/** Only the `kafka` section matters here; the rest of the tailer's file is not validated by this command. */
const fileSchema = z.looseObject({ kafka: kafkaConfigSchema.prefault({}) });

function render(outcomes: readonly TopicOutcome[]): string {
  return outcomes
    .map((o) => {
      if (o.action === 'created') return `created ${o.topic}: ${describeSpec(o.spec)}\n`;
      if (o.differences.length === 0) return `exists  ${o.topic}: as stated (${describeSpec(o.spec)})\n`;
      return `exists  ${o.topic}: differs from the stated settings (left unchanged):\n${o.differences
        .map((d) => `          - ${d}\n`)
        .join('')}`;
    })
    .join('');
}

export async function kafkaCommand(
  args: string[],
  io: KafkaIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let json = false;
  try {
    const parsed = parseCommandArgs({
      args,
      allowPositionals: true,
      options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
    });
    if (parsed.help) {
      io.stdout.write(KAFKA_HELP);
      return 0;
    }
    const { values, positionals } = parsed;
    json = values.json === true;
    if (positionals.length !== 1 || positionals[0] !== 'init') {
      throw new CachetailError('USAGE', `expected "init", got ${JSON.stringify(positionals.join(' '))}`);
    }
    const { kafka } = loadConfig({
      schema: fileSchema,
      envPaths: kafkaEnvPaths(),
      file: values.config,
      env: io.env,
    });
    const log = createLogger('warn', { write: (s: string) => void io.stderr.write(s) });
    const admin = createKafkaClient(kafka, log).admin();
    await admin.connect();
    let outcomes: TopicOutcome[];
    try {
      outcomes = await ensureTopics(kafkajsTopicAdmin(admin), topicSpecs(kafka));
    } finally {
      await admin.disconnect();
    }
    io.stdout.write(json ? `${JSON.stringify({ topics: outcomes }, null, 2)}\n` : render(outcomes));
    return outcomes.some((o) => o.action === 'exists' && o.differences.length > 0) ? 1 : 0;
  } catch (err) {
    const code = err instanceof CachetailError ? err.code : kafkaErrorCode(err);
    const message = code.startsWith('KAFKA_') ? kafkaErrorMessage(err) : errorMessage(err);
    if (json) io.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
    io.stderr.write(
      code === 'USAGE' ? usageErrorLine('kafka', err) : `cachetail kafka: ${message} [${code}]\n`,
    );
    return 2;
  }
}
