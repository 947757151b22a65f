/*
 * The floor of the thread-per-connection design: the article's echo server in C.
 *
 * Listens on argv[1]; for every connection starts a detached thread that reads SO_PEERCRED,
 * answers "Unauthorized access\n" to any uid but its own, and otherwise echoes each line with
 * "> " in front. Built by the benchmark runner with: gcc -O2 -pthread -o echo-c echo.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BUF 8192

static uid_t owner;

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void *serve(void *arg) {
  int fd = (int)(long)arg;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != owner) {
    static const char msg[] = "Unauthorized access\n";
    write_all(fd, msg, sizeof msg - 1);
    shutdown(fd, SHUT_WR);
    close(fd);
    return NULL;
  }
  char in[BUF];
  char out[BUF * 2 + 4];
  size_t filled = 0;
  for (;;) {
    ssize_t n = read(fd, in + filled, sizeof in - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t end = filled + (size_t)n, start = 0, o = 0;
    for (size_t i = filled; i < end; i++) {
      if (in[i] == '\n') {
        size_t line = i + 1 - start;
        out[o++] = '>';
        out[o++] = ' ';
        memcpy(out + o, in + start, line);
        o += line;
        start = i + 1;
      }
    }
    if (o > 0 && write_all(fd, out, o) != 0) break;
    filled = end - start;
    if (filled == sizeof in) break; /* line too long */
    if (start > 0 && filled > 0) memmove(in, in + start, filled);
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  owner = getuid();
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  unlink(argv[1]);
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 4096) != 0) {
    perror("listen");
    return 1;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("accept4");
      usleep(10000);
      continue;
    }
    pthread_t t;
    if (pthread_create(&t, &attr, serve, (void *)(long)fd) != 0) close(fd);
  }
}
