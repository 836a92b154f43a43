// What the command line's resource files share (cli.cc parses and dispatches; cli_accounts.cc,
// cli_lines.cc, cli_sim.cc and cli_webhooks.cc each add their resource's subcommands).
//
// A command returns its exit code (0, or 2 when it did nothing because the operator must decide),
// or an Error, which RunCli prints once as "error: <message>" and ends with exit code 1 (2 for
// kConflict: nothing was done, and the message says what to decide).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

#include "app/config.h"
#include "core/result.h"

namespace bluegate::app {

using Command = std::function<Result<int>()>;

// The options every command takes: where the configuration and the data are.
struct CommonOptions {
  std::optional<std::string> config;
  std::optional<std::string> data_dir;
  std::optional<std::string> database_url;
};
void AddCommon(CLI::App* cmd, CommonOptions& o);
// The configuration these options name, checked (throws on a bad one, as startup does).
Config Load(const CommonOptions& o);
// Where the data is, for messages: the SQLite file or the PostgreSQL URL without its password.
std::string Where(const Config& c);

// Each adds its subcommands to `app`; the one the command line names sets `chosen` when parsed.
void AddAccountCommands(CLI::App& app, Command& chosen);
void AddLineCommands(CLI::App& app, Command& chosen);
void AddSimCommands(CLI::App& app, Command& chosen);
void AddWebhookCommands(CLI::App& app, Command& chosen);

}  // namespace bluegate::app
