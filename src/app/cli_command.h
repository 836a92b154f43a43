// What the command line's resource files share (cli.cc parses and dispatches; cli_accounts.cc,
// cli_backup.cc, cli_lines.cc, cli_sim.cc and cli_webhooks.cc each add their subcommands).
//
// A command returns its exit code (0, or 2 when it did nothing because the operator must decide),
// or an Error, which RunCli prints once as "error: <message>" and ends with exit code 1 (2 for
// kConflict: nothing was done, and the message says what to decide).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "app/config.h"
#include "app/data.h"
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

// Adds the subcommand `name` to `parent`: its options fill a T held with it (T has a
// `CommonOptions common`, whose flags every command takes), and it runs `run(options)` when the
// command line names it.
template <typename T>
std::pair<CLI::App*, std::shared_ptr<T>> AddCommand(CLI::App* parent, const std::string& name,
                                                    const std::string& help, Command& chosen,
                                                    Result<int> (*run)(const T&)) {
  auto options = std::make_shared<T>();
  auto* cmd = parent->add_subcommand(name, help);
  AddCommon(cmd, options->common);
  cmd->callback([options, run, &chosen] { chosen = [options, run] { return run(*options); }; });
  return {cmd, options};
}

// Each adds its subcommands to `app`; the one the command line names sets `chosen` when parsed.
void AddAccountCommands(CLI::App& app, Command& chosen);
void AddBackupCommands(CLI::App& app, Command& chosen);
void AddLineCommands(CLI::App& app, Command& chosen);
void AddSimCommands(CLI::App& app, Command& chosen);
void AddWebhookCommands(CLI::App& app, Command& chosen);

}  // namespace bluegate::app
