// Which server binlog positions belong to: written in the tailer's checkpoint, carried in every Kafka
// message's source, compared on reconnect. Shared by src/tailer and src/sinks/kafka.
import { z } from 'zod';

/** The server the positions belong to: a file/position is meaningless on another server. */
export const serverIdentitySchema = z
  .object({
    flavor: z.enum(['mariadb', 'mysql']),
    serverId: z.number().int(),
    /** MySQL @@server_uuid; MariaDB has none. */
    serverUuid: z.string().optional(),
    /** host:port we connected to, for operators reading the file. */
    address: z.string(),
  })
  .strict();
export type ServerIdentity = z.infer<typeof serverIdentitySchema>;
