/*
 * Prints libmemcached's server index for each key, with MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED on: the
 * reference for cachetail's `ketama` hashing mode. Built and run by generate-ketama.ts in a temporary
 * directory (never committed as a binary):
 *   gcc -O2 -o ketama ketama-libmemcached.c $(pkg-config --cflags --libs libmemcached)
 * stdin:  <server count>\n  then one "<host> <port> <weight>" line per server, then one key per line.
 * stdout: one server index (position in the input list) per key, in input order.
 * No server is contacted: memcached_generate_hash only consults the continuum.
 */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  memcached_st *memc = memcached_create(NULL);
  if (memc == NULL) return 2;
  /* Sets MD5 for keys and continuum points, 160 points per server scaled by weight, 4 per digest. */
  if (memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) != MEMCACHED_SUCCESS) return 3;

  static char line[4096];
  if (fgets(line, sizeof line, stdin) == NULL) return 4;
  int count = atoi(line);
  for (int i = 0; i < count; i++) {
    char host[1024];
    unsigned port, weight;
    if (fgets(line, sizeof line, stdin) == NULL) return 5;
    if (sscanf(line, "%1023s %u %u", host, &port, &weight) != 3) return 6;
    if (memcached_server_add_with_weight(memc, host, (in_port_t) port, weight) != MEMCACHED_SUCCESS) return 7;
  }
  while (fgets(line, sizeof line, stdin) != NULL) {
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
    printf("%u\n", memcached_generate_hash(memc, line, len));
  }
  memcached_free(memc);
  return 0;
}
