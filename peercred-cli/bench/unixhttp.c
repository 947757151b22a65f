// unixhttp: keep-alive HTTP/1.1 load over AF_UNIX, for benchmarking HTTP proxies on Unix sockets
// (wrk and friends speak TCP only). Benchmark tooling, not part of peercred.
//
//   gcc -O2 -o unixhttp unixhttp.c -lpthread
//   unixhttp SOCKET PATH CONNECTIONS SECONDS [THREADS]
//
// Opens CONNECTIONS keep-alive connections to SOCKET, spread over THREADS threads (default 1),
// each sending "GET PATH HTTP/1.1" and reading the whole response before sending the next, for
// SECONDS. Every response must be "HTTP/1.1 200" with a Content-Length body; anything else (another
// status, a closed connection, a malformed head) counts as an error and ends that connection.
// Prints: requests=N errors=E seconds=S rate=N/S
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct conn {
  int fd;
  char buf[8192];
  int have;
};

struct worker {
  const char *socket_path;
  int conns;
  double seconds;
  long requests;
  long errors;
  pthread_t thread;
};

static char request[1024];
static int request_length;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int connect_to(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("connect");
    exit(1);
  }
  return fd;
}

static int send_request(struct conn *c) {
  return write(c->fd, request, request_length) == request_length ? 0 : -1;
}

// Returns the length of one complete 200 response at the start of c->buf, 0 if incomplete,
// -1 if it is not a 200 with a Content-Length.
static int complete_response(struct conn *c) {
  char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
  if (end == NULL) {
    return c->have == (int)sizeof c->buf ? -1 : 0;
  }
  int head = (int)(end - c->buf) + 4;
  if (c->have < 12 || memcmp(c->buf, "HTTP/1.1 200", 12) != 0) {
    return -1;
  }
  char *cl = memmem(c->buf, head, "\r\nContent-Length:", 17);
  if (cl == NULL) {
    cl = memmem(c->buf, head, "\r\ncontent-length:", 17);
  }
  if (cl == NULL) {
    return -1;
  }
  long body = strtol(cl + 17, NULL, 10);
  if (body < 0 || head + body > (long)sizeof c->buf) {
    return -1;
  }
  return c->have >= head + body ? head + (int)body : 0;
}

static void *run(void *arg) {
  struct worker *w = arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct conn *conns = calloc(w->conns, sizeof *conns);
  int live = 0;
  for (int i = 0; i < w->conns; i++) {
    conns[i].fd = connect_to(w->socket_path);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    if (send_request(&conns[i]) == 0) {
      live++;
    }
  }
  double deadline = now() + w->seconds;
  struct epoll_event events[256];
  while (live > 0) {
    int n = epoll_wait(ep, events, 256, 100);
    double t = now();
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      ssize_t r = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) {
          continue;
        }
        w->errors++;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        live--;
        continue;
      }
      c->have += (int)r;
      int length;
      while ((length = complete_response(c)) > 0) {
        w->requests++;
        memmove(c->buf, c->buf + length, c->have - length);
        c->have -= length;
        if (t < deadline) {
          if (send_request(c) != 0) {
            length = -1;
            break;
          }
        } else {
          epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
          live--;
          length = 0;
          break;
        }
      }
      if (length < 0) {
        w->errors++;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        live--;
      }
    }
    if (t > deadline + 5) {
      break; // responses that never came
    }
  }
  for (int i = 0; i < w->conns; i++) {
    close(conns[i].fd);
  }
  free(conns);
  close(ep);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s SOCKET PATH CONNECTIONS SECONDS [THREADS]\n", argv[0]);
    return 2;
  }
  int conns = atoi(argv[3]);
  double seconds = atof(argv[4]);
  int threads = argc > 5 ? atoi(argv[5]) : 1;
  if (conns < 1 || threads < 1 || threads > conns || seconds <= 0) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  request_length = snprintf(request, sizeof request,
                            "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: unixhttp\r\n\r\n",
                            argv[2]);
  struct worker *w = calloc(threads, sizeof *w);
  double start = now();
  for (int i = 0; i < threads; i++) {
    w[i].socket_path = argv[1];
    w[i].conns = conns / threads + (i < conns % threads);
    w[i].seconds = seconds;
    pthread_create(&w[i].thread, NULL, run, &w[i]);
  }
  long requests = 0, errors = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(w[i].thread, NULL);
    requests += w[i].requests;
    errors += w[i].errors;
  }
  double elapsed = now() - start;
  printf("requests=%ld errors=%ld seconds=%.2f rate=%.0f\n", requests, errors, elapsed,
         requests / elapsed);
  return errors == 0 ? 0 : 1;
}
