// The command line: `bluegate serve`, `bluegate accounts create`, `bluegate lines add`,
// `bluegate webhooks list|retry`.
// These command lines are a contract other tools rely on (README.md, docs/cli.md).
#pragma once

namespace bluegate::app {

// Parses argv, runs the command, returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace bluegate::app
