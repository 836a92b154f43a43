#include "app/cli.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <string>

#include "app/cli_command.h"
#include "app/wiring.h"
#include "core/log_format.h"
#include "store/postgres/postgres_db.h"

namespace bluegate::app {

void AddCommon(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--config", o.config, "TOML configuration file (also BLUEGATE_CONFIG)");
  cmd->add_option("--data-dir", o.data_dir,
                  "Data directory (default ./bluegate-data; also BLUEGATE_DATA_DIR)");
  cmd->add_option("--database-url", o.database_url,
                  "PostgreSQL shared by every node, postgresql://user:password@host:port/db "
                  "(also BLUEGATE_DATABASE_URL; default: SQLite in the data directory)");
}

Config Load(const CommonOptions& o) {
  Config c = LoadConfig(o.config);
  if (o.data_dir) c.data_dir = *o.data_dir;
  if (o.database_url) c.database_url = *o.database_url;
  CheckConfig(c);
  return c;
}

std::string Where(const Config& c) {
  return c.clustered() ? store::RedactDatabaseUrl(c.database_url) : c.data_dir;
}

namespace {

struct ServeOptions {
  CommonOptions common;
  std::optional<std::string> listen;
  std::optional<int> threads;
  std::optional<std::string> node_id;
};

Result<int> Serve(const ServeOptions& o) {
  Config c = Load(o.common);
  if (o.listen) c.listen = *o.listen;
  if (o.threads) c.threads = *o.threads;
  if (o.node_id) c.node_id = *o.node_id;
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  UseLogFormat(c.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  Gateway gateway(c);
  gateway.Start();
  std::cout << "listening on " << gateway.local_address() << std::endl;
  spdlog::info("bluegate serving on {} with data in {}", gateway.local_address(), Where(c));
  gateway.Run();
  return 0;
}

struct MigrateOptions {
  CommonOptions common;
};

Result<int> Migrate(const MigrateOptions& o) {
  Config c = Load(o.common);
  OpenStore(c);  // opening applies the migrations
  std::cout << "the schema of " << Where(c) << " is up to date\n";
  return 0;
}

void AddServeCommands(CLI::App& app, Command& chosen) {
  auto [serve, o] = AddCommand<ServeOptions>(
      &app, "serve", "Run the gateway (HTTP API, queues, carriers, webhooks)", chosen, Serve);
  serve->add_option("--listen", o->listen,
                    "HOST:PORT to serve on (default 127.0.0.1:8080; port 0 picks a free one)");
  serve->add_option("--threads", o->threads, "HTTP threads (default: one per core)");
  serve->add_option("--node-id", o->node_id,
                    "This node's name among the nodes sharing --database-url (default: host "
                    "name and port; also BLUEGATE_NODE_ID)");
  AddCommand<MigrateOptions>(&app, "migrate",
                             "Create or update the database schema, then exit (serve does it too)",
                             chosen, Migrate);
}

// The allocator serving this process, for --version: jemalloc's version when it is linked in (the
// default build) or preloaded, else the system's (glibc's, or a sanitizer's).
std::string AllocatorName() {
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  auto* mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (!mallctl || mallctl("version", &version, &size, nullptr, 0) != 0 || !version) {
    return "system malloc";
  }
  std::string v = version;  // "5.3.0-0-g<commit>"
  return "jemalloc " + v.substr(0, v.find('-'));
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"bluegate: a self-hosted iMessage and SMS gateway with a Sendblue-compatible API"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bluegate 0.1.0 (allocator: " + AllocatorName() + ")");
  Command chosen;
  AddServeCommands(app, chosen);
  AddAccountCommands(app, chosen);
  AddBackupCommands(app, chosen);
  AddLineCommands(app, chosen);
  AddSimCommands(app, chosen);
  AddWebhookCommands(app, chosen);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!chosen) return 0;
  try {
    auto result = chosen();
    if (result.ok()) return result.value();
    // The one place a command's failure is told.
    std::cerr << "error: " << result.error().message << "\n";
    return result.error().kind == ErrorKind::kConflict ? 2 : 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace bluegate::app
