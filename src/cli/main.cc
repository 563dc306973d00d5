// pipy: a self-hosted Python package index. See README.md and DESIGN.md.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string_view>

#include "app/audit_routes.h"
#include "cli/commands.h"
#include "config/config.h"
#include "core/units.h"
#include "web/markdown_child.h"

namespace {

// Options every subcommand takes.
struct Common {
  std::string data;
  std::string config_file;
};

void AddCommon(CLI::App* command, Common& common) {
  command->add_option("--data", common.data, "data folder (created if missing)")->required();
  command->add_option("--config", common.config_file, "TOML config file");
}

pipy::Result<pipy::config::Config> Load(const Common& common) {
  std::optional<std::filesystem::path> file;
  if (!common.config_file.empty()) {
    file = common.config_file;
  }
  return pipy::config::LoadConfig(file, common.data);
}

}  // namespace

int main(int argc, char** argv) {
  // Hidden: the server re-runs itself this way to render an untrusted README in a process
  // it can kill (web/markdown_child.h). Not a user command, so not in --help.
  if (argc >= 2 && std::string_view(argv[1]) == pipy::web::kRenderMarkdownCommand) {
    return pipy::web::RenderMarkdownChildMain(argc, argv);
  }
  CLI::App app{"pipy: a self-hosted Python package index"};
  app.require_subcommand(1);

  Common serve_opts;
  std::string listen;
  CLI::App* serve = app.add_subcommand("serve", "serve the repository over HTTP");
  AddCommon(serve, serve_opts);
  serve->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");

  CLI::App* token = app.add_subcommand("token", "manage API tokens");
  token->require_subcommand(1);
  Common token_create_opts;
  std::string token_name;
  std::vector<std::string> scopes;
  std::string token_expires;
  CLI::App* token_create = token->add_subcommand("create", "create a token; prints it last");
  AddCommon(token_create, token_create_opts);
  token_create->add_option("--name", token_name, "a unique name for the token")->required();
  token_create->add_option("--scope", scopes, "read, upload:<glob> or admin (repeatable)")
      ->required();
  token_create->add_option("--expires", token_expires, "lifetime, e.g. 90d or 12h (default: never)");
  Common token_list_opts;
  CLI::App* token_list = token->add_subcommand("list", "list tokens (never their secrets)");
  AddCommon(token_list, token_list_opts);
  Common token_revoke_opts;
  std::string revoke_name;
  CLI::App* token_revoke = token->add_subcommand("revoke", "revoke a token by name");
  AddCommon(token_revoke, token_revoke_opts);
  token_revoke->add_option("--name", revoke_name, "the token's name")->required();

  Common check_opts;
  CLI::App* check = app.add_subcommand(
      "check", "verify every file against its blob's size and sha256; list orphan blobs");
  AddCommon(check, check_opts);

  Common gc_opts;
  std::string min_age = "1h";
  CLI::App* gc = app.add_subcommand("gc", "remove blobs no file refers to");
  AddCommon(gc, gc_opts);
  gc->add_option("--min-age", min_age, "only blobs older than this (default 1h)");

  Common import_opts;
  std::string import_dir;
  std::string import_as = "import";
  CLI::App* import_cmd = app.add_subcommand(
      "import", "publish a folder of wheels and sdists (e.g. a pypiserver package directory)");
  import_cmd->footer(
      "Every *.whl, *.tar.gz and sdist *.zip under DIR (recursively) goes through the same "
      "validation as a twine upload; other files are skipped with a note. Identical files "
      "already published count as already present. Exits 1 when any file was refused.");
  import_cmd->add_option("DIR", import_dir, "folder to import")->required();
  AddCommon(import_cmd, import_opts);
  import_cmd->add_option("--as", import_as,
                         "uploader name recorded for each file (default import)");

  Common audit_opts;
  pipy::catalog::AuditQuery audit_query;
  audit_query.limit = 0;
  std::string audit_since;
  CLI::App* audit = app.add_subcommand(
      "audit", "print the audit log, newest first, one JSON record per line");
  audit->footer(
      "Every change (publish, yank, tag, deprecate, takedown, token create and revoke, "
      "rebuild) and every refusal of one, with time, token, address, action, target and "
      "outcome, as GET /api/audit shows them. Changes made by pipy subcommands have address "
      "\"cli\" and no token.");
  AddCommon(audit, audit_opts);
  audit->add_option("--project", audit_query.project, "only this (normalized) project");
  audit->add_option("--token", audit_query.token, "only this token's records");
  audit->add_option("--action", audit_query.action, "only this action, e.g. publish or yank");
  audit->add_option("--since", audit_since,
                    "only records at or after this time: Unix seconds or RFC 3339");
  audit->add_option("--limit", audit_query.limit, "at most this many records (default: all)")
      ->check(CLI::NonNegativeNumber);

  std::string migrate_from;
  std::string migrate_to;
  std::string migrate_from_data;
  std::string migrate_to_data;
  CLI::App* migrate = app.add_subcommand(
      "migrate", "copy a whole repository between backends (filesystem + SQLite <-> S3 + "
                 "PostgreSQL), then verify every file's sha256");
  migrate->footer(
      "Each side is a config file as for `serve --config` (its [storage] and [catalog] choose "
      "the backends; omitted: filesystem + SQLite) with a data folder as for `serve --data` "
      "(the filesystem blobs and SQLite catalog live there; with S3 and PostgreSQL it holds "
      "only local spool files). Copies every file (blob and metadata blob, refusing a source "
      "blob that does not match its sha256), project, release (metadata and yank state), "
      "uploader, upload time, provenance and token (hashes only). Build jobs, build logs and "
      "upstream caches are not migrated. Re-running skips what the target already has with "
      "the same hash; a filename the target holds with other bytes is an error. Exits "
      "non-zero on any problem.");
  migrate->add_option("--from", migrate_from, "source config file");
  migrate->add_option("--from-data", migrate_from_data, "source data folder")->required();
  migrate->add_option("--to", migrate_to, "target config file");
  migrate->add_option("--to-data", migrate_to_data, "target data folder (created if missing)")
      ->required();

  Common backup_opts;
  std::string backup_to;
  CLI::App* backup = app.add_subcommand(
      "backup", "copy the repository (catalog and blobs) into a folder while servers run");
  backup->footer(
      "Filesystem + SQLite only (for S3 + PostgreSQL see README.md, \"Backups\"). DEST must "
      "be new or empty; it receives catalog.db (a consistent snapshot), the blobs it refers "
      "to and, last, MANIFEST. A folder without MANIFEST is an incomplete backup.");
  AddCommon(backup, backup_opts);
  backup->add_option("--to", backup_to, "backup folder (new or empty)")->required();

  Common restore_opts;
  std::string restore_from;
  CLI::App* restore = app.add_subcommand(
      "restore", "restore a `pipy backup` folder into a new or empty data folder");
  AddCommon(restore, restore_opts);
  restore->add_option("--from", restore_from, "backup folder (with its MANIFEST)")
      ->required();

  CLI11_PARSE(app, argc, argv);

  auto run = [](const Common& common, auto&& body) -> int {
    auto config = Load(common);
    if (!config) {
      std::cerr << "pipy: " << config.error().message() << "\n";
      return 2;
    }
    return body(*config);
  };

  if (serve->parsed()) {
    return run(serve_opts, [&](pipy::config::Config& config) {
      if (!listen.empty()) {
        config.server.listen = listen;
      }
      return pipy::cli::Serve(config);
    });
  }
  if (token_create->parsed()) {
    return run(token_create_opts, [&](pipy::config::Config& config) {
      return pipy::cli::TokenCreate(config, token_name, scopes, token_expires);
    });
  }
  if (token_list->parsed()) {
    return run(token_list_opts,
               [&](pipy::config::Config& config) { return pipy::cli::TokenList(config); });
  }
  if (token_revoke->parsed()) {
    return run(token_revoke_opts, [&](pipy::config::Config& config) {
      return pipy::cli::TokenRevoke(config, revoke_name);
    });
  }
  if (check->parsed()) {
    return run(check_opts, [&](pipy::config::Config& config) { return pipy::cli::Check(config); });
  }
  if (import_cmd->parsed()) {
    return run(import_opts, [&](pipy::config::Config& config) {
      return pipy::cli::Import(config, import_dir, import_as);
    });
  }
  if (audit->parsed()) {
    if (!audit_since.empty()) {
      auto since = pipy::app::ParseAuditTime(audit_since);
      if (!since) {
        std::cerr << "pipy: --since: " << since.error().message() << "\n";
        return 2;
      }
      audit_query.since_ms = *since;
    }
    return run(audit_opts, [&](pipy::config::Config& config) {
      return pipy::cli::Audit(config, audit_query);
    });
  }
  if (migrate->parsed()) {
    auto from = Load(Common{migrate_from_data, migrate_from});
    auto to = Load(Common{migrate_to_data, migrate_to});
    if (!from || !to) {
      std::cerr << "pipy: " << (from ? to.error() : from.error()).message() << "\n";
      return 2;
    }
    return pipy::cli::Migrate(*from, *to);
  }
  if (backup->parsed()) {
    return run(backup_opts, [&](pipy::config::Config& config) {
      return pipy::cli::Backup(config, backup_to);
    });
  }
  if (restore->parsed()) {
    return run(restore_opts, [&](pipy::config::Config& config) {
      return pipy::cli::Restore(config, restore_from);
    });
  }
  if (gc->parsed()) {
    return run(gc_opts, [&](pipy::config::Config& config) {
      auto age = pipy::ParseDuration(min_age);
      if (!age) {
        std::cerr << "pipy: --min-age: " << age.error().message() << "\n";
        return 2;
      }
      return pipy::cli::Gc(config,
                           std::chrono::duration_cast<std::chrono::seconds>(*age));
    });
  }
  return 2;
}
