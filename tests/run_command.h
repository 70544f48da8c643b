#pragma once
// Runs a shell command line for the tests that drive the `soma` binary
// (tests/cli, tests/api): the exit status and what it printed.

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace soma::test {

struct CommandResult {
  int exit_code = -1;  // -1 if the command could not start or was killed
  std::string out;
};

// `cmd` goes to /bin/sh as is: redirect stderr in it (`2>&1`, `2>/dev/null`)
// to choose what `out` holds.
inline CommandResult RunShell(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace soma::test
