/*
 * The "host" board: the device protocol (-DTD_PROTOCOL_MLPERF: MLPerf Tiny's) served on a TCP port
 * (pyserial: socket://127.0.0.1:PORT).
 * Usage: host_device PORT. Serves one client at a time and accepts a new one after a disconnect,
 * like a board whose USB serial is reopened. Counter: CLOCK_MONOTONIC microseconds.
 */
#define _POSIX_C_SOURCE 200112L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "td_board.h"
#include "td_device.h"

const td_device *td_model_setup(void);
static int client = -1;

uint32_t td_board_counter(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint32_t)((uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u);
}

void td_board_write(const uint8_t *data, uint16_t n) {
  if (client >= 0 && send(client, data, n, MSG_NOSIGNAL) < 0) {
    close(client);
    client = -1;
  }
}

const uint8_t *td_board_stack_low(void) { return 0; }
const uint8_t *td_board_stack_high(void) { return 0; }

int main(int argc, char **argv) {
  int server, one = 1;
  struct sockaddr_in addr;
  const td_device *dev;
  if (argc != 2) return 2;
  server = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((uint16_t)atoi(argv[1]));
  if (bind(server, (struct sockaddr *)&addr, sizeof addr) || listen(server, 1)) {
    perror("host_device");
    return 3;
  }
  dev = td_model_setup();
  printf("listening %s\n", argv[1]);
  fflush(stdout);
  for (;;) {
    uint8_t buf[256];
    ssize_t n, i;
    client = accept(server, 0, 0);
    if (client < 0) continue;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    TD_PROTOCOL_START(dev, "tinydeploy device (host)\r\n");
    while (client >= 0 && (n = recv(client, buf, sizeof buf, 0)) > 0)
      for (i = 0; i < n; ++i) TD_PROTOCOL_FEED(dev, buf[i]);
    if (client >= 0) close(client);
    client = -1;
  }
}
