/*
 * Asterisk's side of the pre-dial gate bench, as Asterisk is: a native program with a thread per
 * channel and no garbage collector, so the latency it measures is the gate's and not a second
 * runtime's pauses. bench/gate.ts compiles it with `cc` when there is one (else it uses its Node
 * client) and reads the JSON it prints.
 *
 *   agi-client <port> <sessions per second> <seconds measured> <seconds of warm-up> [attack|ordinary] [pass|ask]
 *
 * Each session: connect to 127.0.0.1:<port>, send the AGI environment block, answer
 * `GET VARIABLE` with the session's unique id and `SET VARIABLE` with `200 result=1`, note the
 * verdict, read until the gate closes the connection; commands are read as res_agi reads them (one
 * line each time bytes arrive, the rest when the connection closes). Latency: from connected to closed. The
 * dialled numbers: `attack` (the default) makes a third of the calls fraud, `ordinary` none. `pass`
 * (the default) sends the linkedid as the README's dialplan line does (`agi_arg_1: linkedid=…`);
 * `ask` sends none, as a bare AGI(agi://…/tollgate) line, and the gate asks for it.
 * Prints {"latencies":[ms…],"verdicts":{"allow":n,"deny":n,"none":n},"ms":n} for the measured
 * sessions (the warm-up's are started, not measured).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum verdict { VERDICT_NONE, VERDICT_ALLOW, VERDICT_DENY };

static int port;
static long total, warmup;
static double *latencies; /* per session; < 0 when it failed */
static enum verdict *verdicts;
static atomic_long finished;

/* The same numbers, in the same order, as the Node client (bench/gate.ts). */
static const char *const ATTACK[] = {"12125550123", "011442079460123", "00449098790123", "0114930123456", "011882161234567", "18005550199"};
static const char *const ORDINARY[] = {"12125550123", "18005550199", "12125550188", "13125550123", "16175550101", "18005550142"};
static const char *const *numbers = ATTACK;
static int pass_linkedid = 1;

static double now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

static int write_all(int fd, const char *text, size_t length) {
  while (length > 0) {
    ssize_t written = send(fd, text, length, MSG_NOSIGNAL);
    if (written <= 0) return -1;
    text += written;
    length -= (size_t)written;
  }
  return 0;
}

/* Answers one line the gate sent; returns -1 when the connection failed. */
static int answer(int fd, long index, const char *line, enum verdict *verdict) {
  char reply[96];
  if (strncmp(line, "GET VARIABLE", 12) == 0) {
    int length = snprintf(reply, sizeof reply, "200 result=1 (1796205600.%ld)\n", 100000 + index);
    return write_all(fd, reply, (size_t)length);
  }
  if (strncmp(line, "SET VARIABLE", 12) == 0) {
    if (strncmp(line, "SET VARIABLE TOLLGATE_VERDICT deny", 34) == 0) *verdict = VERDICT_DENY;
    else if (strncmp(line, "SET VARIABLE TOLLGATE_VERDICT allow", 35) == 0) *verdict = VERDICT_ALLOW;
    return write_all(fd, "200 result=1\n", 13);
  }
  return write_all(fd, "510 Invalid or unknown command\n", 31);
}

/* Answers the buffer's first line and drops it from the buffer. */
static int answer_first_line(int fd, long index, char *buffer, size_t *held, enum verdict *verdict) {
  char *newline = strchr(buffer, '\n');
  *newline = '\0';
  int failed = answer(fd, index, buffer, verdict);
  size_t rest = *held - (size_t)(newline + 1 - buffer);
  memmove(buffer, newline + 1, rest + 1);
  *held = rest;
  return failed;
}

static void *session(void *argument) {
  long index = (long)argument;
  int endpoint = 1000 + (int)(index % 900);
  char environment[1024], buffer[4096];
  buffer[0] = '\0'; /* read as a string even if the gate closes before sending anything */
  int length = snprintf(environment, sizeof environment,
                        "agi_network: yes\nagi_network_script: tollgate\nagi_channel: PJSIP/%d-%08lx\nagi_type: PJSIP\n"
                        "agi_uniqueid: 1796205600.%ld\nagi_callerid: %d\nagi_calleridname: Bench\nagi_context: from-internal\n"
                        "agi_extension: %s\nagi_priority: 2\nagi_accountcode: \n",
                        endpoint, index, 100000 + index, endpoint, numbers[index % 6]);
  if (pass_linkedid) length += snprintf(environment + length, sizeof environment - (size_t)length, "agi_arg_1: linkedid=1796205600.%ld\n", 100000 + index);
  length += snprintf(environment + length, sizeof environment - (size_t)length, "\n");
  double latency = -1;
  enum verdict verdict = VERDICT_NONE;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 && connect(fd, (struct sockaddr *)&address, sizeof address) == 0) {
    double connected = now_ms();
    size_t held = 0;
    int failed = write_all(fd, environment, (size_t)length);
    /* As res_agi reads: wait until the socket is readable, then take one line from a buffered stream
       (fgets). A second command that came in the same bytes waits for more bytes or for the end of the
       connection, when what is still buffered is read. */
    while (!failed) {
      ssize_t got = read(fd, buffer + held, sizeof buffer - 1 - held);
      if (got < 0) failed = 1;
      if (got <= 0) break;
      held += (size_t)got;
      buffer[held] = '\0';
      if (strchr(buffer, '\n') != NULL) failed = answer_first_line(fd, index, buffer, &held, &verdict);
      if (held == sizeof buffer - 1) failed = 1; /* a line longer than any the gate sends */
    }
    /* The gate closed the connection (it handed the channel back): the lines still buffered now. */
    while (!failed && strchr(buffer, '\n') != NULL) failed = answer_first_line(fd, index, buffer, &held, &verdict);
    if (!failed) latency = now_ms() - connected;
  }
  if (fd >= 0) close(fd);
  latencies[index] = latency;
  verdicts[index] = verdict;
  atomic_fetch_add(&finished, 1);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 5 || argc > 7 || (argc >= 6 && strcmp(argv[5], "attack") != 0 && strcmp(argv[5], "ordinary") != 0) ||
      (argc == 7 && strcmp(argv[6], "pass") != 0 && strcmp(argv[6], "ask") != 0)) {
    fprintf(stderr, "usage: %s <port> <sessions per second> <seconds measured> <seconds of warm-up> [attack|ordinary] [pass|ask]\n", argv[0]);
    return 2;
  }
  if (argc >= 6 && strcmp(argv[5], "ordinary") == 0) numbers = ORDINARY;
  if (argc == 7 && strcmp(argv[6], "ask") == 0) pass_linkedid = 0;
  port = atoi(argv[1]);
  long rate = atol(argv[2]);
  total = rate * (atol(argv[3]) + atol(argv[4]));
  warmup = rate * atol(argv[4]);
  latencies = calloc((size_t)total, sizeof *latencies);
  verdicts = calloc((size_t)total, sizeof *verdicts);
  if (port <= 0 || rate <= 0 || total <= warmup || !latencies || !verdicts) {
    fprintf(stderr, "agi-client: bad arguments\n");
    return 2;
  }
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attributes, 64 * 1024);
  /* Paced on absolute times, so a late wake-up does not shift every later session. */
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  long step = 1000000000L / rate;
  double measured_from = 0; /* when the first measured session was started */
  for (long index = 0; index < total; index++) {
    next.tv_nsec += step;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    if (index == warmup) measured_from = now_ms();
    pthread_t thread;
    if (pthread_create(&thread, &attributes, session, (void *)index) != 0) {
      latencies[index] = -1;
      atomic_fetch_add(&finished, 1);
    }
  }
  /* Every session ends within the gate's timeout; wait a little longer at most. */
  double deadline = now_ms() + 10000;
  while (atomic_load(&finished) < total && now_ms() < deadline) usleep(1000);
  long allow = 0, deny = 0, none = 0;
  printf("{\"latencies\":[");
  const char *separator = "";
  for (long index = warmup; index < total; index++) {
    if (latencies[index] >= 0) {
      printf("%s%.4f", separator, latencies[index]);
      separator = ",";
    }
    if (verdicts[index] == VERDICT_ALLOW) allow++;
    else if (verdicts[index] == VERDICT_DENY) deny++;
    else none++;
  }
  double measured = now_ms() - measured_from;
  printf("],\"verdicts\":{\"allow\":%ld,\"deny\":%ld,\"none\":%ld},\"ms\":%.1f}\n", allow, deny, none, measured);
  return atomic_load(&finished) < total ? 1 : 0;
}
