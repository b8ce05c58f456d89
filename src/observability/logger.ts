/** pino JSON logs; one child logger per module. Secrets are redacted by path wherever they appear. */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cachetail' },
      redact: {
        paths: ['password', '*.password', '*.*.password', 'config.source.password'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
